/* A guest's share of the console (see include/keel/output_budget.h). */
#include <keel/output_budget.h>

#define NS_PER_S 1000000000ULL

void output_budget_init(struct output_budget *b, uint64_t rate, uint64_t burst, uint64_t now_ns)
{
	*b = (struct output_budget){ .rate = rate ? rate : 1, .burst = burst, .tokens = burst, .last_ns = now_ns };
}

static void refill(struct output_budget *b, uint64_t now_ns)
{
	if (now_ns <= b->last_ns)
		return;
	uint64_t elapsed = now_ns - b->last_ns;
	/* Long idle: the bucket is simply full (and no overflow below). */
	if (elapsed >= b->burst * (NS_PER_S / b->rate) + NS_PER_S) {
		b->tokens = b->burst;
		b->last_ns = now_ns;
		return;
	}
	uint64_t add = elapsed * b->rate / NS_PER_S;
	if (add == 0)
		return; /* keep last_ns: the fraction is not lost */
	b->tokens = b->tokens + add > b->burst ? b->burst : b->tokens + add;
	b->last_ns += add * NS_PER_S / b->rate;
}

bool output_budget_take(struct output_budget *b, uint64_t now_ns, uint64_t len)
{
	refill(b, now_ns);
	if (len <= b->tokens) {
		b->tokens -= len;
		return true;
	}
	output_budget_drop(b, len);
	return false;
}

void output_budget_drop(struct output_budget *b, uint64_t len)
{
	b->lines++;
	b->bytes += len;
	b->total_lines++;
	b->total_bytes += len;
}

enum output_report output_budget_report_due(struct output_budget *b, uint64_t now_ns, bool final)
{
	if (!b->lines)
		return OUTPUT_REPORT_NONE;
	if (final)
		return OUTPUT_REPORT_SUMMARY;
	if (!b->reported_start) {
		b->reported_start = true;
		b->report_ns = now_ns;
		return OUTPUT_REPORT_START;
	}
	if (now_ns - b->report_ns >= OUTPUT_REPORT_NS)
		return OUTPUT_REPORT_SUMMARY;
	return OUTPUT_REPORT_NONE;
}

void output_budget_reported(struct output_budget *b, uint64_t now_ns)
{
	b->lines = 0;
	b->bytes = 0;
	b->report_ns = now_ns;
}
