using Concord.Experiments.Commerce;
using Concord.Lab.Results;
using Concord.Lab.Scenarios;

namespace Concord.Lab.Tests;

/// <summary>
/// The built-in exercise, as <c>concord lab</c> runs it: after the change, the invariants hold over
/// every seed; before it, they break in most seeds (the negative control for every counter).
/// </summary>
public sealed class LabRunnerTests
{
    static readonly Lazy<LabReport> Exercise = new(() => LabRunner.Run(ScenarioCatalog.Load("exercise"), "concord lab exercise", TimeProvider.System));

    static VariantTotals Variant(string name) => Exercise.Value.Variants.Single(v => v.Variant == name);

    static IEnumerable<VariantTotals> Seeds(string name) => Exercise.Value.PerSeed.Where(r => r.Variant == name).Select(r => r.Metrics);

    [Fact]
    public void After_the_change_no_seed_oversells_loses_a_payment_or_misses_its_own_order()
    {
        Assert.True(Exercise.Value.Seeds.Count >= 5);
        VariantTotals after = Variant("after");
        Assert.Equal(0, after.Oversells);
        Assert.Equal(0, after.LostAcknowledgedPayments);
        Assert.Equal(0, after.ReadYourWritesMisses);
        Assert.Equal(0, after.LostEvents + after.GhostEvents + after.DuplicateEffects + after.LostIncrements);
        Assert.Equal(0, after.SagasUnfinished);
        Assert.True(after.Operations > 1_000, "the after variant must have done real work");
    }

    [Fact]
    public void Before_the_change_most_seeds_oversell_and_read_stale_data()
    {
        VariantTotals[] before = [.. Seeds("before")];
        Assert.True(before.Count(s => s.Oversells > 0) >= 3, string.Join(", ", before.Select(s => s.Oversells)));
        Assert.True(before.Count(s => s.StaleReads > 0) >= 3, string.Join(", ", before.Select(s => s.StaleReads)));
        Assert.True(before.Count(s => s.LostAcknowledgedPayments > 0) >= 3);
        Assert.True(before.Count(s => s.LostEvents + s.GhostEvents > 0) >= 3);
    }

    [Fact]
    public void Totals_are_the_sums_of_the_seeds()
    {
        foreach (VariantTotals totals in Exercise.Value.Variants)
        {
            VariantTotals[] seeds = [.. Seeds(totals.Variant)];
            Assert.Equal(seeds.Sum(s => s.Oversells), totals.Oversells);
            Assert.Equal(seeds.Sum(s => s.StaleReads), totals.StaleReads);
            Assert.Equal(seeds.Sum(s => s.Reads), totals.Reads);
            Assert.Equal(seeds.Sum(s => s.Operations), totals.Operations);
            Assert.Equal(seeds.Max(s => s.UnavailabilityMaxMs), totals.UnavailabilityMaxMs);
        }
    }

    [Fact]
    public void Every_slo_of_the_scenario_gets_a_verdict_per_variant_it_names()
    {
        PlatformScenario scenario = ScenarioCatalog.Load("exercise");
        int expected = scenario.Slos.Sum(s => s.Variant is null ? scenario.Variants.Count : 1);
        Assert.Equal(expected, Exercise.Value.Slos.Count);
        Assert.Contains(Exercise.Value.Slos, s => s is { Metric: "oversells", Variant: "after", Passed: true });
        Assert.Contains(Exercise.Value.Slos, s => s is { Metric: "oversells", Variant: "before", Passed: false });
    }

    [Fact]
    public void The_same_seeds_give_the_same_report()
    {
        LabReport again = LabRunner.Run(ScenarioCatalog.Load("exercise"), "concord lab exercise", TimeProvider.System, cancellation: TestContext.Current.CancellationToken);
        Assert.Equal(Exercise.Value.Variants, again.Variants, (a, b) => a with { P95WriteLatencyMs = b.P95WriteLatencyMs } == b
            && a.P95WriteLatencyMs.SequenceEqual(b.P95WriteLatencyMs));
    }

    [Fact]
    public void An_slo_on_a_boundary_the_scenario_does_not_run_is_not_measured_and_fails()
    {
        PlatformScenario likesOnly = ScenarioCatalog.Load("lww-vs-crdt") with
        {
            Seeds = [1],
            Slos = [new Slo("oversells", SloComparison.AtMost, 0), new Slo("lost_increments", SloComparison.AtMost, 1_000_000)],
        };

        LabReport report = LabRunner.Run(likesOnly, "test", TimeProvider.System, cancellation: TestContext.Current.CancellationToken);

        Assert.All(report.Slos.Where(s => s.Metric == "oversells"), s => Assert.False(s.Passed || s.Value is not null));
        Assert.All(report.Slos.Where(s => s.Metric == "lost_increments"), s => Assert.True(s.Passed));
    }
}
