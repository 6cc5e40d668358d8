using System.Globalization;
using Concord.Messaging.Sagas.Orders;

namespace Concord.Experiments.Commerce.Workflow;

/// <summary>
/// The knobs of the workflow run that the scenario does not state: saga timings shrunk to simulated
/// seconds, the relay's pace, and the injected crash points and dual-write orderings. Defaults are
/// what <see cref="WorkflowRun.Execute"/> uses.
/// </summary>
internal sealed record WorkflowSettings
{
    public static WorkflowSettings Default { get; } = new();

    /// <summary>The real order saga with its timeouts fitted to a two-region network (one way ≈ 40 ms).</summary>
    public OrderSagaTimings SagaTimings { get; init; } = new()
    {
        AttemptTimeoutMs = 400,
        StepDeadlineMs = 3_000,
        AttemptsMax = 4,
        BackoffBaseMs = 50,
        BackoffMaxMs = 800,
        ReservationHoldMs = 60_000,
    };

    /// <summary>Probability that a node crashes right after a business commit: in the window between commit and publish.</summary>
    public double CrashAfterCommitProbability { get; init; } = 0.003;

    /// <summary>How long an injected crash keeps the node down.</summary>
    public long CrashDowntimeUsMin { get; init; } = 20_000;

    public long CrashDowntimeUsMax { get; init; } = 200_000;

    /// <summary>
    /// Dual write: the share of transactions that publish before COMMIT (code that publishes inside
    /// the transaction); the rest commit, then publish.
    /// </summary>
    public double PublishFirstShare { get; init; } = 0.3;

    /// <summary>Dual write, publish first: the probability that the COMMIT after the publish fails (serialization failure, constraint, timeout).</summary>
    public double CommitFailureProbability { get; init; } = 0.02;

    /// <summary>The gap between the two halves of a dual write (the broker round trip), and between an outbox commit and its relay's wake-up.</summary>
    public long PublishDelayUs { get; init; } = 1_000;

    /// <summary>The outbox relay's poll, and how long it waits for an acknowledgement before sending a message again.</summary>
    public long RelayPollUs { get; init; } = 50_000;

    public long RedeliverAfterUs { get; init; } = 300_000;

    /// <summary>Bounds one relay round.</summary>
    public int RelayBatchMax { get; init; } = 256;

    /// <summary>
    /// Negative control when false: an outbox whose consumers keep neither inbox nor recorded
    /// answers. Nothing is lost or ghosted, but at-least-once delivery then applies effects twice.
    /// </summary>
    public bool OutboxConsumersDeduplicate { get; init; } = true;

    /// <summary>Share of orders paid from an account that declines the authorization.</summary>
    public double DeclinedPaymentShare { get; init; } = 0.05;

    /// <summary>After the workload stops: how long sagas get to finish (their deadlines, retries and compensations).</summary>
    public long QuiesceUsMax { get; init; } = 20_000_000;

    public IReadOnlyList<string> Problems()
    {
        var problems = new List<string>(SagaTimings is null ? ["SagaTimings: required."] : []);
        CheckProbability(problems, nameof(CrashAfterCommitProbability), CrashAfterCommitProbability);
        CheckProbability(problems, nameof(PublishFirstShare), PublishFirstShare);
        CheckProbability(problems, nameof(CommitFailureProbability), CommitFailureProbability);
        CheckProbability(problems, nameof(DeclinedPaymentShare), DeclinedPaymentShare);
        if (CrashDowntimeUsMin < 1 || CrashDowntimeUsMax < CrashDowntimeUsMin)
        {
            problems.Add(Text($"crash downtime: 1 <= CrashDowntimeUsMin ({CrashDowntimeUsMin}) <= CrashDowntimeUsMax ({CrashDowntimeUsMax}) required."));
        }

        if (PublishDelayUs < 1 || RelayPollUs < 1 || RedeliverAfterUs < 1 || QuiesceUsMax < 1)
        {
            problems.Add("PublishDelayUs, RelayPollUs, RedeliverAfterUs and QuiesceUsMax must be at least 1 µs.");
        }

        if (RelayBatchMax < 1)
        {
            problems.Add("RelayBatchMax must be at least 1.");
        }

        return problems;
    }

    static void CheckProbability(List<string> problems, string name, double value)
    {
        if (!(value >= 0 && value <= 1))
        {
            problems.Add(Text($"{name}: {value} is not a probability within [0, 1]."));
        }
    }

    static string Text(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
