/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * edu-sg: what differs between the QEMU versions it builds against, all in
 * one place: 7.2 (Debian 12) and 10.0 (bookworm-backports).  edu-sg.c
 * includes this after QEMU's headers; "qemu/osdep.h" defines
 * QEMU_VERSION_MAJOR and QEMU_VERSION_MINOR (config-host.h).
 *
 * The build glue has one difference of its own, in meson.build: QEMU 8.1
 * renamed the softmmu_ss source set to system_ss.
 *
 * Copyright (c) 2026 The wdmdma authors
 */

#ifndef EDU_SG_COMPAT_H
#define EDU_SG_COMPAT_H

#define EDU_SG_QEMU_AT_LEAST(major, minor) \
    (QEMU_VERSION_MAJOR > (major) || \
     (QEMU_VERSION_MAJOR == (major) && QEMU_VERSION_MINOR >= (minor)))

/* 2026-12-02: QEMU 10.0 moved include/sysemu/ to include/system/. */
#if EDU_SG_QEMU_AT_LEAST(10, 0)
#include "system/dma.h"
#else
#include "sysemu/dma.h"
#endif

/*
 * 2026-12-02: QEMU 10.0 takes a const Property array, counted with
 * ARRAY_SIZE(), and has no DEFINE_PROP_END_OF_LIST() terminator any more;
 * 7.2 takes a mutable array that ends with one.  EDU_SG_PROP_END_OF_LIST
 * goes after the last property's comma.
 */
#if EDU_SG_QEMU_AT_LEAST(10, 0)
typedef const Property EduSgProperty;
#define EDU_SG_PROP_END_OF_LIST
#else
typedef Property EduSgProperty;
#define EDU_SG_PROP_END_OF_LIST DEFINE_PROP_END_OF_LIST()
#endif

/*
 * 2026-12-02: QEMU 9.2 renamed DeviceClass::reset to legacy_reset, set
 * with device_class_set_legacy_reset(); 7.2 has only the "reset" field.
 */
#if EDU_SG_QEMU_AT_LEAST(9, 2)
#define edu_sg_set_reset(dc, fn) device_class_set_legacy_reset(dc, fn)
#else
#define edu_sg_set_reset(dc, fn) ((dc)->reset = (fn))
#endif

/*
 * 2026-12-03: 10.0's thread_pool_submit_aio() has no ThreadPool argument
 * (it uses the pool of the current AioContext; dropped in 8.0 as far as
 * we know, only 7.2 and 10.0 are built); 7.2 takes the pool, here the
 * main loop's, where edu-sg runs.
 */
#if EDU_SG_QEMU_AT_LEAST(8, 0)
#define edu_sg_thread_pool_submit(func, arg, cb, opaque) \
    thread_pool_submit_aio(func, arg, cb, opaque)
#else
#define edu_sg_thread_pool_submit(func, arg, cb, opaque) \
    thread_pool_submit_aio(aio_get_thread_pool(qemu_get_aio_context()), \
                           func, arg, cb, opaque)
#endif

#endif /* EDU_SG_COMPAT_H */
