package dev.ckpt.tools.ops.plan;

import dev.ckpt.formats.WriteReport;
import java.util.Optional;

/**
 * What a plan-and-execute operation (apply-delta, make-delta, merge-lora) did: the plan that was
 * checked, and what was written (empty for a dry run).
 */
public record PlanReport(OutputPlan plan, Optional<WriteReport> written) {
}
