/*
 * Entry of mb1test, Keel's multiboot1 test kernel. Built twice from this
 * file: as an ELF (the loader reads the program headers) and, with
 * AOUT_KLUDGE defined, as a flat binary whose header carries the load
 * addresses (multiboot1 header flag 16).
 */
#define MB1_MAGIC 0x1badb002
#define MB1_PAGE_ALIGN (1 << 0)
#define MB1_MEMORY_INFO (1 << 1)
#ifdef AOUT_KLUDGE
#define MB1_FLAGS (MB1_PAGE_ALIGN | MB1_MEMORY_INFO | (1 << 16))
#else
#define MB1_FLAGS (MB1_PAGE_ALIGN | MB1_MEMORY_INFO)
#endif

	.section .multiboot, "a"
	.balign 4
mb1_header:
	.long MB1_MAGIC
	.long MB1_FLAGS
	.long -(MB1_MAGIC + MB1_FLAGS)
#ifdef AOUT_KLUDGE
	.long mb1_header	/* header_addr */
	.long __load_start	/* load_addr */
	.long __load_end	/* load_end_addr */
	.long __bss_end		/* bss_end_addr */
	.long _start		/* entry_addr */
#endif

	.text
	.code32
	.globl _start
_start:
	/* EAX/EBX as the loader left them; no stack yet (multiboot1). */
	movl $stack_top, %esp
	pushl $0
	popfl
	pushl %ebx
	pushl %eax
	call mb1test_main
1:	cli
	hlt
	jmp 1b

	.bss
	.balign 16
	.skip 8192
stack_top:
