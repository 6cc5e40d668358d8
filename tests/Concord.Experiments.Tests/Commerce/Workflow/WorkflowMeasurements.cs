using System.Globalization;
using Concord.Experiments.Commerce;
using Concord.Experiments.Commerce.Workflow;
using Concord.Experiments.Quorum;

namespace Concord.Experiments.Tests.Commerce.Workflow;

/// <summary>
/// The numbers in src/Concord.Experiments/Commerce/Workflow/README.md. Measurements, not assertions
/// (wall times vary by machine). Run explicitly, in Release:
/// dotnet test tests/Concord.Experiments.Tests -c Release --filter FullyQualifiedName~WorkflowMeasurements -- xUnit.Explicit=only
/// </summary>
public sealed class WorkflowMeasurements(ITestOutputHelper output)
{
    [Fact(Explicit = true)]
    public void Exercise_scale_dual_write_vs_outbox_over_10_seeds()
    {
        PlatformScenario scenario = WorkflowScenarios.TwoRegions();
        WorkflowRun.Run(scenario, WorkflowScenarios.Outbox, 1, WorkflowSettings.Default); // warm-up: JIT
        foreach (ConsistencyMapping mapping in new[] { WorkflowScenarios.DualWrite, WorkflowScenarios.Outbox })
        {
            int lost = 0, ghost = 0, duplicates = 0, confirmed = 0, compensated = 0, unfinished = 0, orders = 0, failed = 0, crashes = 0, held = 0;
            List<long> writeUs = [], sagaUs = [];
            double wallMsMax = 0;
            for (ulong seed = 1; seed <= 10; seed++)
            {
                long start = TimeProvider.System.GetTimestamp();
                WorkflowOutcome outcome = WorkflowRun.Run(scenario, mapping, seed, WorkflowSettings.Default);
                wallMsMax = Math.Max(wallMsMax, TimeProvider.System.GetElapsedTime(start).TotalMilliseconds);
                PlatformMetrics m = outcome.Metrics;
                (lost, ghost, duplicates) = (lost + m.LostEvents, ghost + m.GhostEvents, duplicates + m.DuplicateEffects);
                (confirmed, compensated, unfinished) = (confirmed + m.SagasConfirmed, compensated + m.SagasCompensated, unfinished + m.SagasUnfinished);
                (orders, failed, crashes, held) = (orders + m.Operations, failed + m.FailedOperations, crashes + outcome.InjectedCrashes, held + outcome.HeldUnitsAtEnd);
                writeUs.AddRange(m.WriteLatenciesMs[Service.Orders].Select(ms => (long)(ms * 1_000)));
                sagaUs.AddRange(outcome.SagaLatenciesMs.Select(ms => (long)(ms * 1_000)));
            }

            LatencyPercentiles write = LatencyPercentiles.Of(writeUs);
            LatencyPercentiles saga = LatencyPercentiles.Of(sagaUs);
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"| {mapping.Workflow} | {lost} | {ghost} | {duplicates} | {confirmed} / {compensated} / {unfinished} | {held} | {orders} ({failed} failed) | {crashes} | {write.P50Ms:F1} / {write.P95Ms:F1} | {saga.P50Ms:F0} / {saga.P95Ms:F0} | {wallMsMax:F0} |"));
        }
    }
}
