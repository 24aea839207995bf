/* rproc.h: the whole remote-side SDK. */
#ifndef RPROC_RPROC_H
#define RPROC_RPROC_H

#include "remoteproc_wire.h"
#include "compiler.h"
#include "machine.h"
#include "mem.h"
#include "platform.h"
#include "resource_table.h"
#include "rpmsg.h"
#include "serial.h"
#include "trace.h"
#include "vring.h"

#endif
