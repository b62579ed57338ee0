// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit suite for QEMU's stock edu device (PCI 1234:11e8): identification,
 * liveness and one interrupt-driven DMA round trip. It proves the test
 * harness end to end: a PCI device in the guest, a real DMA mapping, an
 * interrupt, and KTAP on the console.
 *
 * The suite takes the device in suite_init (6.1 runs suites before
 * module_init) and skips nothing: without the device, every case fails.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <kunit/test.h>
#include <linux/completion.h>
#include <linux/dma-mapping.h>
#include <linux/interrupt.h>
#include <linux/io.h>
#include <linux/module.h>
#include <linux/pci.h>
#include <linux/random.h>

#include "../src/compat.h"

#define EDU_REG_ID		0x00
#define EDU_REG_LIVE		0x04
#define EDU_REG_IRQ_STATUS	0x24
#define EDU_REG_IRQ_ACK		0x64
#define EDU_REG_DMA_SRC		0x80
#define EDU_REG_DMA_DST		0x88
#define EDU_REG_DMA_CNT		0x90
#define EDU_REG_DMA_CMD		0x98

#define EDU_ID			0x010000ed
#define EDU_DMA_START		BIT(0)
#define EDU_DMA_TO_RAM		BIT(1)
#define EDU_DMA_IRQ		BIT(2)
#define EDU_IRQ_DMA		0x100
#define EDU_BUF_ADDR		0x40000
#define EDU_XFER_LEN		2048

struct edu_test_dev {
	struct pci_dev *pdev;
	void __iomem *regs;
	struct completion dma_done;
	u32 irq_status;
};

static struct edu_test_dev *edu_dev;

static irqreturn_t edu_test_irq(int irq, void *data)
{
	struct edu_test_dev *edu = data;
	u32 status = readl(edu->regs + EDU_REG_IRQ_STATUS);

	if (!status)
		return IRQ_NONE;
	writel(status, edu->regs + EDU_REG_IRQ_ACK);
	edu->irq_status |= status;
	if (status & EDU_IRQ_DMA)
		complete(&edu->dma_done);
	return IRQ_HANDLED;
}

/*
 * The suite uses the device without binding a driver: on 6.1 suites run
 * while the module is still MODULE_STATE_COMING, before its kobject exists,
 * and pci_register_driver() then trips kobject and refcount warnings.
 */
static int edu_suite_init(struct kunit_suite *suite)
{
	struct edu_test_dev *edu;
	struct pci_dev *pdev;
	int ret;

	pdev = pci_get_device(0x1234, 0x11e8, NULL);
	if (!pdev) {
		pr_err("no edu device (1234:11e8) in this machine\n");
		return -ENODEV;
	}
	edu = kzalloc(sizeof(*edu), GFP_KERNEL);
	if (!edu) {
		ret = -ENOMEM;
		goto put_dev;
	}
	edu->pdev = pdev;
	init_completion(&edu->dma_done);

	ret = pci_enable_device(pdev);
	if (ret)
		goto free_edu;
	edu->regs = pci_iomap(pdev, 0, 0);
	if (!edu->regs) {
		ret = -ENOMEM;
		goto disable_dev;
	}
	pci_set_master(pdev);
	ret = dma_set_mask_and_coherent(&pdev->dev, DMA_BIT_MASK(28));
	if (ret) {
		dev_err(&pdev->dev, "no usable 28-bit DMA mask: %d\n", ret);
		goto unmap;
	}
	ret = pci_alloc_irq_vectors(pdev, 1, 1, PCI_IRQ_MSI | PCI_IRQ_INTX);
	if (ret < 0)
		goto unmap;
	ret = request_irq(pci_irq_vector(pdev, 0), edu_test_irq, IRQF_SHARED,
			  KBUILD_MODNAME, edu);
	if (ret)
		goto free_vectors;
	edu_dev = edu;
	return 0;

free_vectors:
	pci_free_irq_vectors(pdev);
unmap:
	pci_clear_master(pdev);
	pci_iounmap(pdev, edu->regs);
disable_dev:
	pci_disable_device(pdev);
free_edu:
	kfree(edu);
put_dev:
	pci_dev_put(pdev);
	return ret;
}

static void edu_suite_exit(struct kunit_suite *suite)
{
	struct edu_test_dev *edu = edu_dev;
	struct pci_dev *pdev;

	if (!edu)
		return;
	pdev = edu->pdev;
	free_irq(pci_irq_vector(pdev, 0), edu);
	pci_free_irq_vectors(pdev);
	pci_clear_master(pdev);
	pci_iounmap(pdev, edu->regs);
	pci_disable_device(pdev);
	pci_dev_put(pdev);
	kfree(edu);
	edu_dev = NULL;
}

static struct edu_test_dev *edu_get(struct kunit *test)
{
	KUNIT_ASSERT_NOT_NULL_MSG(test, edu_dev, "no edu device bound");
	return edu_dev;
}

static void edu_test_id(struct kunit *test)
{
	struct edu_test_dev *edu = edu_get(test);

	KUNIT_EXPECT_EQ(test, readl(edu->regs + EDU_REG_ID), EDU_ID);
}

static void edu_test_liveness(struct kunit *test)
{
	struct edu_test_dev *edu = edu_get(test);
	u32 patterns[] = { 0, 0xffffffff, 0x12345678, get_random_u32() };
	int i;

	for (i = 0; i < ARRAY_SIZE(patterns); i++) {
		writel(patterns[i], edu->regs + EDU_REG_LIVE);
		KUNIT_EXPECT_EQ(test, readl(edu->regs + EDU_REG_LIVE),
				~patterns[i]);
	}
}

/* Start one DMA and wait for its completion interrupt. */
static int edu_dma(struct edu_test_dev *edu, u64 src, u64 dst, u32 len,
		   bool to_ram)
{
	u32 cmd = EDU_DMA_START | EDU_DMA_IRQ | (to_ram ? EDU_DMA_TO_RAM : 0);

	reinit_completion(&edu->dma_done);
	writeq(src, edu->regs + EDU_REG_DMA_SRC);
	writeq(dst, edu->regs + EDU_REG_DMA_DST);
	writeq(len, edu->regs + EDU_REG_DMA_CNT);
	writeq(cmd, edu->regs + EDU_REG_DMA_CMD);
	if (!wait_for_completion_timeout(&edu->dma_done, 10 * HZ))
		return -ETIMEDOUT;
	return 0;
}

static void edu_test_dma_round_trip(struct kunit *test)
{
	struct edu_test_dev *edu = edu_get(test);
	struct device *dev = &edu->pdev->dev;
	dma_addr_t out_dma, in_dma;
	u8 *out, *in;

	out = dma_alloc_coherent(dev, EDU_XFER_LEN, &out_dma, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, out);
	in = dma_alloc_coherent(dev, EDU_XFER_LEN, &in_dma, GFP_KERNEL);
	if (!in) {
		dma_free_coherent(dev, EDU_XFER_LEN, out, out_dma);
		KUNIT_FAIL(test, "dma_alloc_coherent failed");
		return;
	}
	KUNIT_EXPECT_LE(test, out_dma + EDU_XFER_LEN - 1, DMA_BIT_MASK(28));
	KUNIT_EXPECT_LE(test, in_dma + EDU_XFER_LEN - 1, DMA_BIT_MASK(28));

	get_random_bytes(out, EDU_XFER_LEN);
	memset(in, 0, EDU_XFER_LEN);

	KUNIT_EXPECT_EQ(test, edu_dma(edu, out_dma, EDU_BUF_ADDR, EDU_XFER_LEN,
				      false), 0);
	KUNIT_EXPECT_EQ(test, edu_dma(edu, EDU_BUF_ADDR, in_dma, EDU_XFER_LEN,
				      true), 0);
	KUNIT_EXPECT_TRUE(test, edu->irq_status & EDU_IRQ_DMA);
	KUNIT_EXPECT_EQ(test, memcmp(out, in, EDU_XFER_LEN), 0);

	dma_free_coherent(dev, EDU_XFER_LEN, in, in_dma);
	dma_free_coherent(dev, EDU_XFER_LEN, out, out_dma);
}

static struct kunit_case edu_test_cases[] = {
	KUNIT_CASE(edu_test_id),
	KUNIT_CASE(edu_test_liveness),
	KUNIT_CASE(edu_test_dma_round_trip),
	{ }
};

static struct kunit_suite edu_test_suite = {
	.name = "edu",
	.suite_init = edu_suite_init,
	.suite_exit = edu_suite_exit,
	.test_cases = edu_test_cases,
};

kunit_test_suite(edu_test_suite);

MODULE_DESCRIPTION("KUnit tests for QEMU's stock edu device");
MODULE_LICENSE("GPL");
