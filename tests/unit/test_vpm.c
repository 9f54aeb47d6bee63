/* ACPI power management registers (hvm/dev/vpm.c): PM1 status bits cleared
 * by writing 1, the SCI following enabled status, S5 and S4 ending the
 * guest, S3 suspending it until an enabled RTC alarm, in any access width. */
#include <stdarg.h>
#include <setjmp.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include <keel/vpm.h>

#include "fakes.h"

static struct fake_clock clk;
static struct fake_irq irq;
static struct fake_guest fg;
static struct vpm pm;

static void setup(void)
{
	fake_clock_init(&clk);
	fake_guest_init(&fg);
	vpm_init(&pm, &clk.vc, fake_irq_line(&irq), &fg.ev);
}

static void test_registers(void **state)
{
	setup();
	/* ACPI mode from reset: SCI_EN reads 1; nothing pending. */
	assert_int_equal(vpm_read(&pm, VPM_PM1A_CNT, 2), PM1_CNT_SCI_EN);
	assert_int_equal(vpm_read(&pm, VPM_PM1A_EVT, 4), 0);
	/* Only the enable bits that exist stick. */
	vpm_write(&pm, VPM_PM1A_EVT + 2, 2, 0xffff);
	assert_int_equal(vpm_read(&pm, VPM_PM1A_EVT + 2, 2), PM1_TMR | PM1_GBL | PM1_PWRBTN | PM1_SLPBTN | PM1_RTC);
	/* Bytes read as the 16-bit registers they belong to; nothing past them. */
	assert_int_equal(vpm_read(&pm, VPM_PM1A_EVT + 3, 1), (PM1_RTC | PM1_PWRBTN | PM1_SLPBTN) >> 8);
	assert_int_equal(vpm_read(&pm, VPM_PM1A_CNT + 2, 2), 0);
	assert_int_equal(vpm_read(&pm, VPM_PORT_BASE + VPM_PORTS - 1, 2), 0xff00);
	/* SLP_TYP is kept; nothing sleeps without SLP_EN. */
	vpm_write(&pm, VPM_PM1A_CNT, 2, PM1_CNT_SCI_EN | (5u << PM1_CNT_SLP_TYP_SHIFT));
	assert_int_equal(vpm_read(&pm, VPM_PM1A_CNT, 2), PM1_CNT_SCI_EN | (5u << PM1_CNT_SLP_TYP_SHIFT));
	assert_int_equal(fg.exits + fg.suspends, 0);
}

static void test_rtc_status_and_sci(void **state)
{
	setup();
	vpm_rtc_alarm(&pm);
	assert_int_equal(vpm_read(&pm, VPM_PM1A_EVT, 2), PM1_RTC);
	assert_int_equal(irq.level[VPM_SCI_IRQ], 0); /* not enabled */
	vpm_write(&pm, VPM_PM1A_EVT + 2, 2, PM1_RTC);
	assert_int_equal(irq.level[VPM_SCI_IRQ], 1);
	/* SCI_EN off masks it; writing 1 clears the status. */
	vpm_write(&pm, VPM_PM1A_CNT, 2, 0);
	assert_int_equal(irq.level[VPM_SCI_IRQ], 0);
	vpm_write(&pm, VPM_PM1A_CNT, 2, PM1_CNT_SCI_EN);
	assert_int_equal(irq.level[VPM_SCI_IRQ], 1);
	vpm_write(&pm, VPM_PM1A_EVT, 2, PM1_RTC);
	assert_int_equal(vpm_read(&pm, VPM_PM1A_EVT, 2), 0);
	assert_int_equal(irq.level[VPM_SCI_IRQ], 0);
}

static void test_power_off(void **state)
{
	setup();
	vpm_write(&pm, VPM_PM1A_CNT, 2, PM1_CNT_SLP_EN | (VPM_SLP_TYP_S5 << PM1_CNT_SLP_TYP_SHIFT));
	assert_int_equal(fg.exits, 1);
	assert_int_equal(fg.exit_status, 0);
	assert_non_null(strstr(fg.reason, "S5"));
	/* S4 is off too, for a virtual machine. */
	setup();
	vpm_write(&pm, VPM_PM1A_CNT, 2, PM1_CNT_SLP_EN | (VPM_SLP_TYP_S4 << PM1_CNT_SLP_TYP_SHIFT));
	assert_int_equal(fg.exits, 1);
	assert_non_null(strstr(fg.reason, "S4"));
	/* SLP_EN reads as 0. */
	assert_int_equal(vpm_read(&pm, VPM_PM1A_CNT, 2) & PM1_CNT_SLP_EN, 0);
}

static void test_suspend_and_wake(void **state)
{
	setup();
	/* The byte holding SLP_TYP and SLP_EN alone, as kvm-unit-tests' s3
	 * does with a word: S3. */
	vpm_write(&pm, VPM_PM1A_EVT, 2, 0xffff);
	vpm_write(&pm, VPM_PM1A_CNT + 1, 1, (PM1_CNT_SLP_EN | (VPM_SLP_TYP_S3 << PM1_CNT_SLP_TYP_SHIFT)) >> 8);
	assert_int_equal(fg.suspends, 1);
	assert_int_equal(fg.exits, 0);
	assert_false(vpm_wake_armed(&pm)); /* RTC_EN is off */
	vpm_rtc_alarm(&pm);
	assert_int_equal(fg.wakes, 0);
	/* With RTC_EN the alarm wakes it, once, and says so in WAK_STS. */
	vpm_write(&pm, VPM_PM1A_EVT + 2, 2, PM1_RTC);
	assert_true(vpm_wake_armed(&pm));
	vpm_rtc_alarm(&pm);
	assert_int_equal(fg.wakes, 1);
	assert_true(vpm_read(&pm, VPM_PM1A_EVT, 2) & PM1_STS_WAK);
	assert_false(vpm_wake_armed(&pm));
	vpm_rtc_alarm(&pm);
	assert_int_equal(fg.wakes, 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_registers),
		cmocka_unit_test(test_rtc_status_and_sci),
		cmocka_unit_test(test_power_off),
		cmocka_unit_test(test_suspend_and_wake),
	};
	return cmocka_run_group_tests_name("acpi pm", tests, NULL, NULL);
}
