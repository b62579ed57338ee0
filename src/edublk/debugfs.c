// SPDX-License-Identifier: GPL-2.0
/*
 * edublk in debugfs: /sys/kernel/debug/edublk/<disk>/
 *   stats      the driver's counters (wdmdma's own per-adapter counters
 *              are in /sys/kernel/debug/wdmdma/<device>-<id>/stats)
 *   drop_irqs  edu only (edu.c): write N: ignore the next N DMA
 *              completion interrupts, as if lost, to exercise the DMA
 *              timeout (reads back what is left)
 *   map_errors write N: the adapter's next N mappings fail with -EIO
 *              (wdmdma_inject_map_error(); 0 stops), to exercise the
 *              end of a request wdmdma cannot map (write-only)
 *   map_enomem write N: the next N mappings fail with -ENOMEM, mapping
 *              space short, so requests wait and are tried again (-1:
 *              all until 0 is written), to exercise a wait that does not
 *              end (write-only)
 *   fail_alloc write PCT: this adapter's allocation-failure injection
 *              (wdmdma_set_fail_alloc(); -1: back to wdmdma's global
 *              fault-injection knobs), which works on kernels without
 *              fault injection too (write-only)
 *   aer_recover  a backend with PCI error handlers (edu-sg): write
 *              normal, frozen, frozen-fail, detect or perm: the calls of
 *              the AER core's recovery, for machines without AER
 *              (write-only; aer_recover_write())
 *   dev_fail_every, dev_drop_every, dev_halt_after, dev_latency_ns
 *              edu-sg only: the device's own fault-injection registers
 *              (FAIL_EVERY, DROP_EVERY, HALT_AFTER, LATENCY_NS), read and
 *              written
 *              while the disk runs (edusg.c, edublk_sg_debugfs_add())
 * A backend adds its files (ops->debugfs_add) after stats, and its lines
 * to stats (ops->debugfs_show) after the core's.
 *
 * Locking: stats takes edu->lock for a consistent copy of the counters;
 * aer_recover holds the PCI device's lock (device_trylock()) across the
 * driver's calls, as the AER core does.
 *
 * Copyright (C) 2026 The wdmdma authors.
 */

#include <linux/debugfs.h>
#include <linux/fs.h>
#include <linux/kstrtox.h>
#include <linux/pci.h>
#include <linux/seq_file.h>

#include "edublk.h"

static struct dentry *edublk_debugfs_root;

static int stats_show(struct seq_file *m, void *unused)
{
	struct edublk_dev *edu = m->private;
	struct edublk_stats st;
	unsigned int emergency_free;
	unsigned long flags;
	bool dead;

	spin_lock_irqsave(&edu->lock, flags);
	st = edu->stats;
	emergency_free = edu->nr_emergency_free;
	dead = edu->dead;
	spin_unlock_irqrestore(&edu->lock, flags);

	seq_printf(m, "pci %s\n", pci_name(edu->pdev));
	seq_printf(m, "mode %s\n", edublk_mode_names[edu->mode]);
	seq_printf(m, "capacity_bytes %llu\n", edu->capacity);
	seq_printf(m, "dma_bits %u\n", edu->dma_bits);
	seq_printf(m, "irq %s\n", edu->msi ? "msi" : "intx");
	seq_printf(m, "map_registers %u\n", edu->nr_map_registers);
	seq_printf(m, "dead %d\n", dead);
	seq_printf(m, "requests %llu\n", st.requests);
	seq_printf(m, "read_bytes %llu\n", st.read_bytes);
	seq_printf(m, "write_bytes %llu\n", st.write_bytes);
	/* edu-sg: its write cache; the edu has none, they stay 0 there. */
	seq_printf(m, "flushes %llu\n", st.flushes);
	seq_printf(m, "flush_errors %llu\n", st.flush_errors);
	seq_printf(m, "fua_writes %llu\n", st.fua_writes);
	seq_printf(m, "discards %llu\n", st.discards);
	seq_printf(m, "write_zeroes %llu\n", st.write_zeroes);
	seq_printf(m, "dma_transfers %llu\n", st.dma_transfers);
	seq_printf(m, "dma_bytes %llu\n", st.dma_bytes);
	seq_printf(m, "reserve_allocs %llu\n", st.reserve_allocs);
	seq_printf(m, "reserve_alloc_fails %llu\n", st.reserve_alloc_fails);
	seq_printf(m, "emergency_hits %llu\n", st.emergency_hits);
	seq_printf(m, "emergency_waits %llu\n", st.emergency_waits);
	seq_printf(m, "wait_timeouts %llu\n", st.wait_timeouts);
	seq_printf(m, "emergency_free %u/%u\n", emergency_free,
		   edu->nr_emergency);
	seq_printf(m, "errors %llu\n", st.errors);
	seq_printf(m, "timeouts %llu\n", st.timeouts);
	seq_printf(m, "dropped_irqs %llu\n", st.dropped_irqs);
	seq_printf(m, "spurious_irqs %llu\n", st.spurious_irqs);
	seq_printf(m, "native_requeues %llu\n", st.native_requeues);
	seq_printf(m, "lists %llu\n", st.lists);
	seq_printf(m, "unmapped %llu\n", st.unmapped);
	if (edu->ops->debugfs_show)
		edu->ops->debugfs_show(m, edu);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(stats);

/* Parse an integer within [min, max] written to a debugfs file. */
static int edublk_dbg_int(const char __user *buf, size_t len, int min,
			  int max, int *val)
{
	int ret = kstrtoint_from_user(buf, len, 0, val);

	if (ret)
		return ret;
	return *val < min || *val > max ? -EINVAL : 0;
}

static ssize_t map_errors_write(struct file *file, const char __user *buf,
				size_t len, loff_t *ppos)
{
	struct edublk_dev *edu = file->private_data;
	int n, ret;

	ret = edublk_dbg_int(buf, len, 0, INT_MAX, &n);
	if (ret)
		return ret;
	wdmdma_inject_map_error(edu->adapter, -EIO, n);
	return len;
}

static const struct file_operations map_errors_fops = {
	.owner = THIS_MODULE,
	.open = simple_open,
	.write = map_errors_write,
	.llseek = noop_llseek,
};

static ssize_t map_enomem_write(struct file *file, const char __user *buf,
				size_t len, loff_t *ppos)
{
	struct edublk_dev *edu = file->private_data;
	int n, ret;

	ret = edublk_dbg_int(buf, len, -1, INT_MAX, &n);
	if (ret)
		return ret;
	wdmdma_inject_map_error(edu->adapter, -ENOMEM, n);
	return len;
}

static const struct file_operations map_enomem_fops = {
	.owner = THIS_MODULE,
	.open = simple_open,
	.write = map_enomem_write,
	.llseek = noop_llseek,
};

static ssize_t fail_alloc_write(struct file *file, const char __user *buf,
				size_t len, loff_t *ppos)
{
	struct edublk_dev *edu = file->private_data;
	int pct, ret;

	ret = edublk_dbg_int(buf, len, -1, 100, &pct);
	if (ret)
		return ret;
	wdmdma_set_fail_alloc(edu->adapter, pct);
	return len;
}

static const struct file_operations fail_alloc_fops = {
	.owner = THIS_MODULE,
	.open = simple_open,
	.write = fail_alloc_write,
	.llseek = noop_llseek,
};

/*
 * "aer_recover": the calls the AER core's pcie_do_recovery() makes for an
 * error of this device, on machines without AER (the test guests have
 * none). Write:
 *   normal       error_detected(normal), then resume, as for a non-fatal
 *                error the driver can recover from;
 *   frozen       error_detected(frozen); if that asks for a reset, a reset
 *                of the function (__pci_reset_function_locked()) stands in
 *                for the link reset, then slot_reset; if recovered,
 *                resume; if not, error_detected(perm_failure), as the AER
 *                core ends a failed recovery;
 *   frozen-fail  error_detected(frozen), then error_detected(perm_failure):
 *                the link reset failed;
 *   detect       error_detected(frozen) alone: the AER core drops the
 *                device lock between its calls, so the device may be
 *                unbound or removed before the rest;
 *   perm         error_detected(perm_failure).
 * Each step under the device lock, as the AER core calls drivers: -EBUSY
 * while probe or remove holds it.
 */
static ssize_t aer_recover_write(struct file *file, const char __user *ubuf,
				 size_t len, loff_t *ppos)
{
	enum { NORMAL, FROZEN, FROZEN_FAIL, DETECT, PERM };
	static const char * const steps[] = {
		[NORMAL] = "normal", [FROZEN] = "frozen",
		[FROZEN_FAIL] = "frozen-fail", [DETECT] = "detect",
		[PERM] = "perm",
	};
	struct edublk_dev *edu = file->private_data;
	struct pci_dev *pdev = edu->pdev;
	pci_ers_result_t r;
	char buf[16];
	int step, ret;

	if (len >= sizeof(buf))
		return -EINVAL;
	if (copy_from_user(buf, ubuf, len))
		return -EFAULT;
	buf[len] = '\0';
	step = sysfs_match_string(steps, buf);
	if (step < 0)
		return step;
	if (!device_trylock(&pdev->dev))
		return -EBUSY;
	switch (step) {
	case NORMAL:
		r = edublk_error_detected(pdev, pci_channel_io_normal);
		break;
	case PERM:
		edublk_error_detected(pdev, pci_channel_io_perm_failure);
		goto out;
	default:
		r = edublk_error_detected(pdev, pci_channel_io_frozen);
		if (step == DETECT)
			goto out;
		if (step == FROZEN_FAIL) {
			r = PCI_ERS_RESULT_DISCONNECT;
			break;
		}
		if (r != PCI_ERS_RESULT_NEED_RESET)
			break;
		pci_cfg_access_lock(pdev);
		ret = __pci_reset_function_locked(pdev);
		pci_cfg_access_unlock(pdev);
		if (ret) {
			dev_err(&pdev->dev, "aer_recover: the function reset failed (%d)\n",
				ret);
			r = PCI_ERS_RESULT_DISCONNECT;
		} else {
			r = edublk_slot_reset(pdev);
		}
		break;
	}
	if (r == PCI_ERS_RESULT_RECOVERED || r == PCI_ERS_RESULT_CAN_RECOVER)
		edublk_resume(pdev);
	else if (r != PCI_ERS_RESULT_NONE)
		edublk_error_detected(pdev, pci_channel_io_perm_failure);
out:
	device_unlock(&pdev->dev);
	return len;
}

static const struct file_operations aer_recover_fops = {
	.owner = THIS_MODULE,
	.open = simple_open,
	.write = aer_recover_write,
	.llseek = noop_llseek,
};

void edublk_debugfs_add(struct edublk_dev *edu)
{
	if (IS_ERR_OR_NULL(edublk_debugfs_root))
		return;
	edu->debugfs = debugfs_create_dir(edu->disk->disk_name,
					  edublk_debugfs_root);
	debugfs_create_file("stats", 0444, edu->debugfs, edu, &stats_fops);
	if (edu->ops->debugfs_add)
		edu->ops->debugfs_add(edu, edu->debugfs);
	debugfs_create_file("map_errors", 0200, edu->debugfs, edu,
			    &map_errors_fops);
	debugfs_create_file("map_enomem", 0200, edu->debugfs, edu,
			    &map_enomem_fops);
	debugfs_create_file("fail_alloc", 0200, edu->debugfs, edu,
			    &fail_alloc_fops);
	if (edu->ops->error_detected)
		debugfs_create_file("aer_recover", 0200, edu->debugfs, edu,
				    &aer_recover_fops);
}

void edublk_debugfs_remove(struct edublk_dev *edu)
{
	debugfs_remove_recursive(edu->debugfs);
	edu->debugfs = NULL;
}

void edublk_debugfs_init(void)
{
	edublk_debugfs_root = debugfs_create_dir(KBUILD_MODNAME, NULL);
}

void edublk_debugfs_exit(void)
{
	debugfs_remove_recursive(edublk_debugfs_root);
}
