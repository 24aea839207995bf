/* resource_table.c: walking the linked resource table at run time. */
#include "rproc/resource_table.h"

volatile struct rproc_fw_rsc_vdev *rproc_table_find_vdev(uint32_t id) {
  volatile uint8_t *base = (volatile uint8_t *)&_rproc_resource_table;
  uint32_t count = _rproc_resource_table.num;
  for (uint32_t i = 0; i < count; i++) {
    uint32_t offset = _rproc_resource_table.offset[i];
    volatile struct rproc_rsc_hdr *header = (volatile struct rproc_rsc_hdr *)(base + offset);
    if (header->type != RPROC_RSC_VDEV) continue;
    volatile struct rproc_fw_rsc_vdev *vdev = (volatile struct rproc_fw_rsc_vdev *)(header + 1);
    if (vdev->id == id) return vdev;
  }
  return 0;
}
