using Concord.Lab.Scenarios;

namespace Concord.Lab.Tests.Report;

/// <summary>
/// A real lab run, not a hand-made report: a tiny scenario through the simulator, the runner and
/// the deck writer, and every number the page shows must be the one results.json holds.
/// </summary>
public sealed class TinyScenarioDeckTests
{
    const string Tiny = """
        name: tiny
        description: Two regions, every boundary, a partition and a failover, one short run per variant.
        seeds: [3]
        topology:
          regions:
            - { name: eu, servers: 3, customers: 2 }
            - { name: us, servers: 3, customers: 2 }
          links:
            - { between: [eu, us], latency_ms: 30 }
        workload: { duration_ms: 800, hot_stock: 3 }
        faults:
          - { kind: partition, regions: [eu, us], at_ms: 200, duration_ms: 300 }
          - { kind: leader-failover, at_ms: 500, duration_ms: 200 }
        boundaries: [ledger, inventory, orders, catalog, likes, workflow]
        variants:
          - { name: before }
          - { name: after, ledger: raft, inventory: raft-cas, orders: session-token, catalog: bounded-staleness, likes: crdt, workflow: outbox }
        slos:
          - { metric: oversells, max: 0 }
        sweep: { n: [3], operations_per_point: 200 }
        """;

    [Fact]
    public void Every_number_in_the_deck_of_a_real_run_is_the_one_in_results_json()
    {
        var report = LabRunner.Run(ScenarioLoader.Parse(Tiny, "tiny.yaml"), "concord lab tiny.yaml", TimeProvider.System, cancellation: TestContext.Current.CancellationToken);
        using var deck = new DeckFixture(report);

        Assert.Empty(deck.ParseErrors);
        Assert.True(deck.Page.QuerySelectorAll("[data-json]").Length > 100);
        Assert.Empty(DeckNumbersTests.Mismatches(deck.Page, deck.Results.RootElement));
        Assert.Empty(DeckNumbersTests.UntaggedNumbers(deck.Page));
        Assert.Equal(9, deck.Written.Sweep.Count);
        Assert.Equal(2, deck.Written.Timelines.Count);
        Assert.True(deck.Page.QuerySelectorAll("svg").Length >= 8, "the before/after charts, the sweep and both timelines are drawn");
    }
}
