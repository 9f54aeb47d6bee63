/*
 * The registers a guest can write that a VM exit leaves as they are (SDM
 * Vol. 3C 27.5 lists what the CPU loads on exit; everything else is the
 * guest's until someone changes it): the x87/SSE/AVX/AVX-512 registers,
 * XCR0, DR0-DR3, DR6, and the syscall MSRs (hvm/vmx/msr.c). Keel itself
 * never uses them (it is built without SSE), so a vCPU's values can stay in
 * the CPU across its exits; they are saved when the vCPU leaves the CPU
 * (vcpu_put) and restored when a vCPU enters a CPU whose registers hold
 * someone else's (vcpu_state_load). An exit that does not switch vCPUs
 * costs nothing here. docs/vcpu-state.md has the list and the measurements.
 *
 * Saving and restoring always covers every component Keel offers, with
 * XCR0 set to all of them: a component the next vCPU never enabled is then
 * either its own or in its initial state (XRSTOR initialises a component
 * whose XSTATE_BV bit is clear), never the previous vCPU's, even after it
 * enables more components with XSETBV.
 */
#include <keel/console.h>
#include <keel/cpu.h>
#include <keel/mm.h>
#include <keel/string.h>
#include <keel/vmx.h>
#include <x86/cpu.h>
#include <x86/io.h>
#include <x86/vmx.h>

#include "vcpu_state.h"
#include "exit.h"
#include "vmx.h"

struct xstate_layout guest_xstate;
static bool use_xsave;   /* XSAVE/XRSTOR, else FXSAVE/FXRSTOR */
static uint64_t switch_mask; /* components saved and restored (= guest_xstate.offered) */

/* Offsets in the legacy region (SDM Vol. 1 10.5.1). */
#define FXSAVE_FCW 0
#define FXSAVE_MXCSR 24
#define MXCSR_INIT 0x1f80u
#define FCW_INIT 0x37fu

static inline void xsetbv(uint32_t index, uint64_t val)
{
	__asm__ volatile("xsetbv" ::"c"(index), "a"((uint32_t)val), "d"((uint32_t)(val >> 32)) : "memory");
}

static void set_xcr0(struct pcpu *pc, uint64_t val)
{
	if (pc->xcr0 != val) {
		xsetbv(0, val);
		pc->xcr0 = val;
	}
}

static uint64_t xgetbv0(void)
{
	uint32_t lo, hi;
	__asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
	return lo | (uint64_t)hi << 32;
}

/*
 * Whether XSAVEC puts the AVX state where the compacted format has it: the
 * first component after the legacy region and the header, at byte 576
 * (SDM Vol. 1 13.4.3), which is where XRSTOR reads it. Bochs 2.7 counts the
 * SSE registers' 256 bytes from byte 160 instead and writes the AVX state
 * at 416: YMM7's upper half lands on the header's reserved bytes 528-543,
 * the guest's next XRSTOR of that image raises #GP, and Linux answers by
 * resetting the task's registers (t-linux-regs lost YMM0 that way).
 * Checked once, before any guest, with YMM7 all ones; XCR0 and CR4 are
 * left as they were, YMM7 zero.
 */
static bool xsavec_layout_ok(void)
{
	static uint8_t img[XSTATE_BASE_BYTES + 256] __attribute__((aligned(64)));
	const uint64_t mask = XCR0_X87 | XCR0_SSE | XCR0_AVX;
	uint64_t cr4 = read_cr4(), xcr0;
	write_cr4(cr4 | CR4_OSFXSR | CR4_OSXSAVE);
	xcr0 = xgetbv0();
	xsetbv(0, mask);
	memset(img, 0, sizeof(img));
	__asm__ volatile("vpcmpeqb %%ymm7, %%ymm7, %%ymm7\n\t"
			 "xsavec64 %0\n\t"
			 "vpxor %%ymm7, %%ymm7, %%ymm7"
			 : "+m"(img)
			 : "a"((uint32_t)mask), "d"(0u)
			 : "memory");
	xsetbv(0, xcr0);
	write_cr4(cr4);
	bool ok = img[XSTATE_BASE_BYTES + 7 * 16] == 0xff && img[XSTATE_BASE_BYTES + 7 * 16 + 15] == 0xff;
	for (unsigned i = XSTATE_LEGACY_BYTES + 16; i < XSTATE_BASE_BYTES; i++)
		ok = ok && img[i] == 0;
	return ok;
}

void vcpu_state_probe(void)
{
	uint32_t a, b, c, d;
	cpuid(1, &a, &b, &c, &d);
	use_xsave = c & CPUID_1_ECX_XSAVE;
	if (!use_xsave) {
		/* FXSAVE covers x87 and SSE; every x86-64 CPU has it. */
		kprintf("keel: guest extended state: FXSAVE (x87, SSE); no XSAVE to offer guests\n");
		return;
	}
	struct xstate_layout *l = &guest_xstate;
	cpuid_count(0xd, 0, &a, &b, &c, &d);
	uint64_t host_mask = a | (uint64_t)d << 32;
	for (unsigned i = 2; i < XSTATE_COMPONENTS; i++) {
		if (!((host_mask >> i) & 1))
			continue;
		cpuid_count(0xd, i, &a, &b, &c, &d);
		l->size[i] = a;
		l->offset[i] = b;
		if (c & 2)
			l->align64 |= 1u << i;
	}
	cpuid_count(0xd, 1, &a, &b, &c, &d);
	l->sub1_eax = a & (XSTATE_SUB1_XSAVEOPT | XSTATE_SUB1_XSAVEC | XSTATE_SUB1_XGETBV1);
	l->offered = xstate_offerable(host_mask);
	if ((l->sub1_eax & XSTATE_SUB1_XSAVEC) && (l->offered & XCR0_AVX) && !xsavec_layout_ok()) {
		l->sub1_eax &= ~XSTATE_SUB1_XSAVEC;
		kprintf("keel: guest extended state: this CPU's XSAVEC writes the AVX state over the XSAVE header "
			"(a Bochs 2.7 erratum): XSAVEC is not offered to guests, they use XSAVEOPT\n");
	}
	if (xstate_size(l, l->offered) > PAGE_SIZE)
		l->offered &= ~XCR0_AVX512; /* cannot happen with today's layouts */
	switch_mask = l->offered;
	kprintf("keel: guest extended state: XSAVE, XCR0 %#lx offered (host %#lx: x87%s%s%s), %u-byte image per "
		"vCPU\n",
		l->offered, host_mask, (l->offered & XCR0_SSE) ? " SSE" : "", (l->offered & XCR0_AVX) ? " AVX" : "",
		(l->offered & XCR0_AVX512) ? " AVX-512" : "", xstate_size(l, l->offered));
}

void vcpu_state_enable_cpu(unsigned cpu)
{
	/* FXSAVE/FXRSTOR cover the XMM registers only with CR4.OSFXSR, XSAVE
	 * and XSETBV need CR4.OSXSAVE. Host CR4 is what every VM exit loads
	 * (VMCS host state, written from the live CR4 afterwards). */
	uint64_t cr4 = read_cr4() | CR4_OSFXSR | (use_xsave ? CR4_OSXSAVE : 0);
	write_cr4(cr4);
	if (use_xsave) {
		xsetbv(0, switch_mask);
		pcpus[cpu].xcr0 = switch_mask;
	}
}

int vcpu_state_alloc(struct vcpu *v)
{
	v->xsave_area = page_alloc(1);
	v->vapic = vmx_alloc_pages(1);
	if (!v->xsave_area || !v->vapic) {
		vcpu_state_free(v);
		return -1;
	}
	memset(v->xsave_area, 0, PAGE_SIZE);
	memset(v->vapic, 0, PAGE_SIZE);
	/* Power-on values (SDM Vol. 3A table 9-1). With XSAVE, an XSTATE_BV of
	 * 0 restores every component in its initial state; MXCSR is read
	 * anyway, and FXRSTOR reads the whole legacy region. */
	uint8_t *fx = v->xsave_area;
	*(uint16_t *)(fx + FXSAVE_FCW) = FCW_INIT;
	*(uint32_t *)(fx + FXSAVE_MXCSR) = MXCSR_INIT;
	v->xcr0 = XCR0_X87;
	memset(v->dr, 0, sizeof(v->dr));
	v->dr6 = DR6_INIT;
	v->regs_cpu = -1; /* never in any CPU's registers */
	return 0;
}

void vcpu_state_free(struct vcpu *v)
{
	page_free(v->xsave_area, 1);
	page_free(v->vapic, 1);
	v->xsave_area = NULL;
	v->vapic = NULL;
	v->regs_cpu = -1;
}

static void read_drs(struct vcpu *v)
{
	__asm__ volatile("mov %%db0, %0" : "=r"(v->dr[0]));
	__asm__ volatile("mov %%db1, %0" : "=r"(v->dr[1]));
	__asm__ volatile("mov %%db2, %0" : "=r"(v->dr[2]));
	__asm__ volatile("mov %%db3, %0" : "=r"(v->dr[3]));
	__asm__ volatile("mov %%db6, %0" : "=r"(v->dr6));
}

static void write_drs(const struct vcpu *v)
{
	__asm__ volatile("mov %0, %%db0" ::"r"(v->dr[0]));
	__asm__ volatile("mov %0, %%db1" ::"r"(v->dr[1]));
	__asm__ volatile("mov %0, %%db2" ::"r"(v->dr[2]));
	__asm__ volatile("mov %0, %%db3" ::"r"(v->dr[3]));
	__asm__ volatile("mov %0, %%db6" ::"r"(v->dr6));
}

void vcpu_state_save(struct vcpu *v, unsigned cpu)
{
	struct pcpu *pc = &pcpus[cpu];
	if (pc->regs_owner != v || v->regs_cpu != (int)cpu)
		return; /* not loaded here: nothing of it in the registers */
	uint64_t t0 = rdtsc();
	if (use_xsave) {
		set_xcr0(pc, switch_mask);
		__asm__ volatile("xsave64 %0" : "+m"(*(uint8_t(*)[PAGE_SIZE])v->xsave_area)
				 : "a"((uint32_t)switch_mask), "d"((uint32_t)(switch_mask >> 32)));
	} else {
		__asm__ volatile("fxsave64 %0" : "=m"(*(uint8_t(*)[512])v->xsave_area));
	}
	read_drs(v);
	vcpu_msrs_save(v);
	/* The registers still hold v's values: a reload here restores nothing. */
	pc->state_saves++;
	pc->state_save_ticks += rdtsc() - t0;
}

void vcpu_state_load(struct vcpu *v, unsigned cpu)
{
	struct pcpu *pc = &pcpus[cpu];
	if (pc->regs_owner != v || v->regs_cpu != (int)cpu) {
		uint64_t t0 = rdtsc();
		if (use_xsave) {
			set_xcr0(pc, switch_mask);
			__asm__ volatile("xrstor64 %0" ::"m"(*(const uint8_t(*)[PAGE_SIZE])v->xsave_area),
					 "a"((uint32_t)switch_mask), "d"((uint32_t)(switch_mask >> 32)));
		} else {
			__asm__ volatile("fxrstor64 %0" ::"m"(*(const uint8_t(*)[512])v->xsave_area));
		}
		write_drs(v);
		vcpu_msrs_load(v);
		pc->regs_owner = v;
		v->regs_cpu = (int)cpu;
		pc->state_restores++;
		pc->state_restore_ticks += rdtsc() - t0;
	}
	if (use_xsave)
		set_xcr0(pc, v->xcr0);
}

int vcpu_set_xcr0(struct vcpu *v, uint64_t val)
{
	if (!xcr0_valid(val, guest_xstate.offered))
		return -1;
	v->xcr0 = val;
	set_xcr0(&pcpus[v->cpu], val);
	return 0;
}

void vcpu_state_init_signal(struct vcpu *v)
{
	memset(v->dr, 0, sizeof(v->dr));
	v->dr6 = DR6_INIT;
	write_drs(v);
	v->efer_lme = false;
	if (use_xsave) {
		v->xcr0 = XCR0_X87;
		set_xcr0(&pcpus[v->cpu], v->xcr0);
	}
}

void vcpu_tpr_to_shadow(struct vcpu *v)
{
	if (!(vmx_caps.proc_ctls & PROC_USE_TPR_SHADOW) || vmx_caps.apicv)
		return; /* with virtual-interrupt delivery the CPU itself re-evaluates on a TPR write */
	/* A TPR write that makes a waiting interrupt deliverable must exit
	 * (TPR below threshold); the threshold may not exceed VTPR[7:4] (SDM
	 * 26.2.1.1), which vlapic_tpr_threshold guarantees. */
	uint8_t t = vlapic_tpr_threshold(&v->lapic);
	if (t != v->tpr_threshold) {
		vmwrite(VMCS_TPR_THRESHOLD, t);
		v->tpr_threshold = t;
	}
}
