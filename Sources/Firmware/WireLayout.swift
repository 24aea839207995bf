/// Byte offsets of the resource-table structs, as `remoteproc_wire.h` (and Linux's
/// `include/linux/remoteproc.h`) lay them out. Tests pin each one to the C header.
public enum WireLayout {
  /// `struct resource_table`: `ver`, `num`, `reserved[2]`, then `offset[num]`.
  public enum Table {
    public static let version = 0, count = 4, reserved = 8, offsets = 16
  }

  /// `struct fw_rsc_carveout` / `fw_rsc_devmem` (payload after the type word): 52 bytes.
  public enum Carveout {
    public static let size = 52
    public static let deviceAddress = 0, physicalAddress = 4, length = 8, flags = 12, reserved = 16, name = 20
  }

  /// `struct fw_rsc_trace`: 44 bytes.
  public enum Trace {
    public static let size = 44
    public static let deviceAddress = 0, length = 4, reserved = 8, name = 12
  }

  /// `struct fw_rsc_vdev`: 24 bytes, then `vring[]`, then config space.
  public enum VirtioDevice {
    public static let size = 24
    public static let id = 0, notifyID = 4, deviceFeatures = 8, guestFeatures = 12, configLength = 16
    public static let status = 20, ringCount = 21, reserved = 22, rings = 24
  }

  /// `struct fw_rsc_vdev_vring`: 20 bytes.
  public enum Vring {
    public static let size = 20
    public static let deviceAddress = 0, alignment = 4, count = 8, notifyID = 12, physicalAddress = 16
  }
}
