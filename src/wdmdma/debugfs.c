// SPDX-License-Identifier: GPL-2.0
/*
 * wdmdma in debugfs: statistics in /sys/kernel/debug/wdmdma/<device>-<id>/stats,
 * and the allocation fault-injection knobs in /sys/kernel/debug/wdmdma/fail_alloc/
 * (the kernel's fault-injection attributes: probability, interval, times...).
 *
 * Locking: none of its own; the statistics are read with wdmdma_get_stats().
 *
 * Copyright (C) 2026 The wdmdma authors.
 */

#include <linux/debugfs.h>
#include <linux/seq_file.h>

#include "internal.h"

static struct dentry *wdmdma_debugfs_root;

static int stats_show(struct seq_file *m, void *unused)
{
	struct wdmdma_adapter *adapter = m->private;
	struct wdmdma_stats st;

	wdmdma_get_stats(adapter, &st);
	seq_printf(m, "allocated %llu\n", st.allocated);
	seq_printf(m, "reserve %llu\n", st.reserve);
	seq_printf(m, "built %llu\n", st.built);
	seq_printf(m, "deferred %llu\n", st.deferred);
	seq_printf(m, "cancelled %llu\n", st.cancelled);
	seq_printf(m, "queue_depth %llu\n", st.queue_depth);
	seq_printf(m, "outstanding %llu\n", st.outstanding);
	seq_printf(m, "bounced %llu\n", st.bounced);
	seq_printf(m, "map_regs_in_use %llu\n", st.map_regs_in_use);
	seq_printf(m, "map_regs_high %llu\n", st.map_regs_high);
	seq_printf(m, "map_regs_total %llu\n", st.map_regs_total);
	seq_printf(m, "verifier_errors %llu\n", st.verifier_errors);
	seq_printf(m, "failed %llu\n", st.failed);
	seq_printf(m, "map_retries %llu\n", st.map_retries);
	seq_printf(m, "fast %llu\n", st.fast);
	seq_printf(m, "iova %llu\n", st.iova);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(stats);

void wdmdma_debugfs_add(struct wdmdma_adapter *adapter)
{
	char name[64];

	if (IS_ERR_OR_NULL(wdmdma_debugfs_root))
		return;
	snprintf(name, sizeof(name), "%s-%u", dev_name(adapter->dev),
		 adapter->id);
	adapter->debugfs = debugfs_create_dir(name, wdmdma_debugfs_root);
	debugfs_create_file("stats", 0444, adapter->debugfs, adapter,
			    &stats_fops);
}

void wdmdma_debugfs_remove(struct wdmdma_adapter *adapter)
{
	debugfs_remove_recursive(adapter->debugfs);
	adapter->debugfs = NULL;
}

void wdmdma_debugfs_init(void)
{
	wdmdma_debugfs_root = debugfs_create_dir("wdmdma", NULL);
#ifdef CONFIG_FAULT_INJECTION
	/* Quiet by default: a forced failure is not a bug report. */
	wdmdma_fail_alloc_attr.verbose = 0;
#endif
#ifdef CONFIG_FAULT_INJECTION_DEBUG_FS
	if (!IS_ERR_OR_NULL(wdmdma_debugfs_root))
		fault_create_debugfs_attr("fail_alloc", wdmdma_debugfs_root,
					  &wdmdma_fail_alloc_attr);
#endif
}

void wdmdma_debugfs_exit(void)
{
	debugfs_remove_recursive(wdmdma_debugfs_root);
}
