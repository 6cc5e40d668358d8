using Concord.Experiments.Commerce;
using Concord.Lab.Scenarios;

namespace Concord.Lab.Tests.Scenarios;

public sealed class ScenarioLoaderTests
{
    /// <summary>A small valid scenario; each malformed case below breaks one line of it. Line numbers matter: keep the layout.</summary>
    const string Tiny = """
        name: tiny
        seeds: 2
        topology:
          regions:
            - { name: eu, servers: 3, customers: 2 }
            - { name: us, servers: 2, customers: 2 }
          links:
            - { between: [eu, us], latency_ms: 40 }
        workload:
          duration_ms: 1000
          mix: { order: 0.3, browse: 0.5, like: 0.2 }
        faults:
          - { kind: crash, node: eu-1, at_ms: 100, duration_ms: 200 }
        boundaries: [inventory, orders]
        variants:
          - name: before
            inventory: lww
            n: 3
            r: 1
            w: 1
          - name: after
            inventory: raft-cas
        slos:
          - { metric: oversells, max: 0, variant: after }

        """;

    [Fact]
    public void Tiny_scenario_maps_onto_the_records_with_defaults_for_what_it_leaves_out()
    {
        var scenario = ScenarioLoader.Parse(Tiny, "tiny.yaml");

        Assert.Equal("tiny", scenario.Name);
        Assert.Equal([1UL, 2UL], scenario.Seeds);
        Assert.Equal([new RegionSpecification("eu", 3, 2), new RegionSpecification("us", 2, 2)], scenario.Topology.Regions);
        Assert.Equal([new LinkSpecification("eu", "us", 40, JitterFraction: 0.1, LossRate: 0)], scenario.Topology.Links);
        Assert.Equal(new PlatformWorkload { DurationMs = 1000 }, scenario.Workload);
        Assert.Equal([new PlatformFault(FaultKind.Crash, 100, 200) { Node = "eu-1" }], scenario.Faults);
        Assert.Equal([Boundary.Inventory, Boundary.Orders], scenario.Boundaries);
        Assert.Equal(["before", "after"], scenario.Variants.Select(v => v.Name));
        Assert.Equal(new ConsistencyMapping { Inventory = InventoryMode.Lww }, scenario.Variants[0].Consistency);
        Assert.Equal(new ConsistencyMapping { Inventory = InventoryMode.RaftCas }, scenario.Variants[1].Consistency);
        Assert.Equal([new Slo("oversells", SloComparison.AtMost, 0) { Variant = "after" }], scenario.Slos);
        Assert.Null(scenario.Sweep);
    }

    [Fact]
    public void Every_key_of_the_schema_reads_into_its_field()
    {
        var scenario = ScenarioLoader.Parse("""
            name: full-1
            description: >
              Folded
              text.
            seeds: [7, 18446744073709551615]
            topology:
              intra_region_latency_ms: 0.25
              regions:
                - { name: eu, servers: 2, customers: 1 }
                - { name: us-east, servers: 3, customers: 0 }
              links:
                - { between: [us-east, eu], latency_ms: 45.5, jitter: 0.2, loss: 0.01 }
            workload:
              duration_ms: 2_000
              skus: 30
              hot_skus: 3
              hot_stock: 5
              stock: 50
              hot_order_share: 0.5
              mix: { order: 1 }
              price_updates_per_second: 2
              think_time_ms: 10
              request_timeout_ms: 300
            faults:
              - { kind: partition, regions: [eu, us-east], at_ms: 0, duration_ms: 10 }
              - { kind: leader-failover, at_ms: 5, duration_ms: 10 }
              - { kind: clock-skew, node: us-east-3, skew_ms: -80, drift_ppm: 100, at_ms: 1, duration_ms: 2 }
            boundaries: [ledger, inventory, orders, catalog, likes, workflow]
            variants:
              - name: all
                description: "every mode"
                ledger: raft
                inventory: quorum-cas
                orders: session-token
                catalog: bounded-staleness
                likes: crdt
                workflow: outbox
                n: 5
                r: 2
                w: 4
                staleness_bound_ms: 250
            slos:
              - { metric: p95_write_ms.payments, max: 250 }
              - { metric: stale_read_rate, min: 0 }
            sweep:
              n: [3, 5]
              operations_per_point: 100
            """, "full.yaml");

        Assert.Equal("Folded text.", scenario.Description);
        Assert.Equal([7UL, ulong.MaxValue], scenario.Seeds);
        Assert.Equal(0.25, scenario.Topology.IntraRegionLatencyMs);
        Assert.Equal([new LinkSpecification("us-east", "eu", 45.5, 0.2, 0.01)], scenario.Topology.Links);
        Assert.Equal(
            new PlatformWorkload
            {
                DurationMs = 2000, Skus = 30, HotSkus = 3, HotStock = 5, Stock = 50, HotOrderShare = 0.5,
                OrderShare = 1, BrowseShare = 0, LikeShare = 0, PriceUpdatesPerSecond = 2, ThinkTimeMs = 10, RequestTimeoutMs = 300,
            },
            scenario.Workload);
        Assert.Equal(
            [
                new PlatformFault(FaultKind.Partition, 0, 10) { Region = "eu", OtherRegion = "us-east" },
                new PlatformFault(FaultKind.LeaderFailover, 5, 10),
                new PlatformFault(FaultKind.ClockSkew, 1, 2) { Node = "us-east-3", SkewMs = -80, DriftPpm = 100 },
            ],
            scenario.Faults);
        Assert.Equal(6, scenario.Boundaries.Count);
        var variant = Assert.Single(scenario.Variants);
        Assert.Equal("every mode", variant.Description);
        Assert.Equal(
            new ConsistencyMapping
            {
                Ledger = LedgerMode.Raft, Inventory = InventoryMode.QuorumCas, Orders = OrdersMode.SessionToken, Catalog = CatalogMode.BoundedStaleness,
                Likes = CounterMode.Crdt, Workflow = WorkflowMode.Outbox, N = 5, R = 2, W = 4, StalenessBoundMs = 250,
            },
            variant.Consistency);
        Assert.Equal([new Slo("p95_write_ms.payments", SloComparison.AtMost, 250), new Slo("stale_read_rate", SloComparison.AtLeast, 0)], scenario.Slos);
        Assert.Equal([3, 5], scenario.Sweep!.ReplicationFactors);
        Assert.Equal(100, scenario.Sweep.OperationsPerPoint);
    }

    /// <summary>
    /// One mistake per row, made by replacing text in <see cref="Tiny"/>. The error must name the
    /// file, the line, the column of <c>at</c> on that line, the field path, and say something useful.
    /// </summary>
    [Theory]
    // unknown key, with the closest known one suggested
    [InlineData("latency_ms: 40", "latency: 40", 8, "latency", "topology.links[0].latency", "unknown key \"latency\"; did you mean 'latency_ms'?")]
    [InlineData("seeds: 2", "sedes: 2", 2, "sedes", "sedes", "unknown key \"sedes\"; did you mean 'seeds'?")]
    [InlineData("  - { kind: crash, node: eu-1,", "  - { kind: crash, node: eu-1, skew_ms: 5,", 13, "skew_ms", "faults[0].skew_ms", "unknown key \"skew_ms\"; a crash fault takes: kind, node, at_ms, duration_ms")]
    // wrong type
    [InlineData("duration_ms: 1000", "duration_ms: soon", 10, "soon", "workload.duration_ms", "must be a whole number between 1 and 600000; got \"soon\"")]
    [InlineData("order: 0.3", "order: lots", 11, "lots", "workload.mix.order", "must be a number between 0 and 1; got \"lots\"")]
    [InlineData("latency_ms: 40", "latency_ms: \"40\"", 8, "\"40\"", "topology.links[0].latency_ms", "must be a number between 0 and 10000; got \"40\"")]
    [InlineData("boundaries: [inventory, orders]", "boundaries: inventory", 14, "inventory", "boundaries", "must be a list of boundaries")]
    // bad enum value: lists the valid ones
    [InlineData("inventory: raft-cas", "inventory: raft-kas", 22, "raft-kas", "variants[1].inventory", "must be one of lww, quorum-cas, raft-cas; got \"raft-kas\"; did you mean 'raft-cas'?")]
    [InlineData("kind: crash", "kind: crush", 13, "crush", "faults[0].kind", "must be one of partition, crash, leader-failover, clock-skew; got \"crush\"; did you mean 'crash'?")]
    [InlineData("[inventory, orders]", "[inventory, order]", 14, "order]", "boundaries[1]", "must be one of ledger, inventory, orders, catalog, likes, workflow; got \"order\"")]
    // out of range, and cross-field checks
    [InlineData("r: 1", "r: 4", 19, "4", "variants[0].r", "must be between 1 and n (3); got 4")]
    [InlineData("n: 3", "n: 6", 18, "6", "variants[0].n", "6 replicas per key need 6 servers; the topology has 5")]
    [InlineData("like: 0.2", "like: 0.3", 11, "{", "workload.mix", "the shares must sum to 1 (±0.001); got 0.3 + 0.5 + 0.3 = 1.1")]
    [InlineData("at_ms: 100", "at_ms: 1000", 13, "1000", "faults[0].at_ms", "starts at 1000 ms, when the run is already over (workload.duration_ms is 1000)")]
    [InlineData("seeds: 2", "seeds: 1001", 2, "1001", "seeds", "must be a count n between 1 and 1000")]
    [InlineData("seeds: 2", "seeds: []", 2, "[]", "seeds", "must list 1 to 1000 seeds; got 0")]
    // unknown names referred to
    [InlineData("[eu, us]", "[eu, usa]", 8, "usa", "topology.links[0].between[1]", "unknown region \"usa\" (the regions are eu, us); did you mean 'us'?")]
    [InlineData("node: eu-1", "node: eu-4", 13, "eu-4", "faults[0].node", "unknown server \"eu-4\" (servers are named region-k: eu-1, eu-2, eu-3, us-1, us-2)")]
    [InlineData("metric: oversells", "metric: oversell", 24, "oversell", "slos[0].metric", "unknown metric \"oversell\"; did you mean 'oversells'?")]
    [InlineData("variant: after", "variant: aftr", 24, "aftr", "slos[0].variant", "no variant is named \"aftr\" (the variants are before, after); did you mean 'after'?")]
    [InlineData("max: 0,", "", 24, "{", "slos[0]", "has neither max nor min")]
    // duplicates and missing keys
    [InlineData("seeds: 2", "seeds: [4, 4]", 2, "4]", "seeds[1]", "seed 4 is listed twice")]
    [InlineData("[inventory, orders]", "[inventory, inventory]", 14, "inventory]", "boundaries[1]", "boundary inventory is listed twice")]
    [InlineData("boundaries: [inventory, orders]", "boundaries: [inventory, orders]\nsweep: { n: [3, 6] }", 15, "6", "sweep.n[1]", "6 replicas per key need 6 servers; the topology has 5")]
    [InlineData("- name: after", "- name: before", 21, "name", "variants[1].name", "variant \"before\" is defined twice")]
    [InlineData("  duration_ms: 1000\n", "  duration_ms: 1000\n  duration_ms: 2000\n", 11, "duration_ms", "workload.duration_ms", "duplicate key: already set on line 10")]
    [InlineData("name: tiny\nseeds: 2\n", "name: tiny\n", 1, "name", "seeds", "required key is missing")]
    [InlineData("  links:\n    - { between: [eu, us], latency_ms: 40 }\n", "", 4, "regions", "topology.links", "no link between eu and us: every pair of regions needs one")]
    // YAML syntax: YamlDotNet's error, with its position
    [InlineData("    inventory: lww", "   inventory: lww", 17, "inventory", "", "not valid YAML")]
    [InlineData("{ metric: oversells, max: 0, variant: after }", "{ metric: oversells, max: 0, variant: after", 25, "", "", "not valid YAML")]
    public void Malformed_file_is_reported_with_file_line_column_field_and_message(string replace, string with, int line, string at, string field, string message)
    {
        Assert.Contains(replace, Tiny, StringComparison.Ordinal);
        var yaml = Tiny.Replace(replace, with, StringComparison.Ordinal);

        var error = Assert.Single(ErrorsOf(yaml));

        Assert.Equal("bad.yaml", error.File);
        Assert.Equal(line, error.Line);
        var lineText = yaml.Split('\n')[line - 1];
        Assert.Equal(lineText.IndexOf(at, StringComparison.Ordinal) + 1, error.Column);
        Assert.Equal(field, error.Field);
        Assert.Contains(message, error.Message, StringComparison.Ordinal);
        Assert.StartsWith($"bad.yaml:{line}:{error.Column}: ", error.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void Every_mistake_in_a_file_is_reported_in_file_order_not_just_the_first()
    {
        var yaml = Tiny
            .Replace("latency_ms: 40", "latency: 40", StringComparison.Ordinal)
            .Replace("order: 0.3", "order: lots", StringComparison.Ordinal)
            .Replace("r: 1", "r: 4", StringComparison.Ordinal)
            .Replace("inventory: raft-cas", "inventory: raft-kas", StringComparison.Ordinal)
            .Replace("metric: oversells", "metric: oversell", StringComparison.Ordinal);

        var failure = Assert.Throws<ScenarioException>(() => ScenarioLoader.Parse(yaml, "bad.yaml"));

        // The link also lacks latency_ms, but the misspelling already says so: one error, not two.
        Assert.Equal(
            [
                (8, "topology.links[0].latency"), (11, "workload.mix.order"),
                (19, "variants[0].r"), (22, "variants[1].inventory"), (24, "slos[0].metric"),
            ],
            failure.Errors.Select(e => (e.Line, e.Field)));
        Assert.Equal(failure.Errors.Select(e => e.ToString()), failure.Message.Split('\n'));
    }

    [Fact]
    public void A_broken_region_is_reported_once_not_again_by_the_links_faults_and_quorums_that_refer_to_it()
    {
        var errors = ErrorsOf(Tiny.Replace("{ name: us, servers: 2, customers: 2 }", "{ name: us, servers: 0, customers: 2 }", StringComparison.Ordinal));

        var error = Assert.Single(errors);
        Assert.Equal("topology.regions[1].servers", error.Field);
    }

    [Theory]
    [InlineData("", "holds no YAML document")]
    [InlineData("# just a comment\n", "holds no YAML document")]
    [InlineData("- name: tiny\n", "a scenario must be a mapping (key: value lines) with keys name, description, seeds")]
    [InlineData("name: a\n---\nname: b\n", "holds one YAML document")]
    [InlineData("name: &n tiny\ndescription: *m\n", "unknown alias '*m'")]
    public void Text_that_is_not_one_scenario_mapping_is_rejected_at_its_position(string yaml, string message)
    {
        var error = ErrorsOf(yaml)[0];

        Assert.True(error.Line >= 1, $"line {error.Line}");
        Assert.Contains(message, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Missing_directory_and_oversized_files_get_one_error_naming_the_file()
    {
        var directory = Directory.CreateTempSubdirectory("concord-scenarios-");
        try
        {
            var missing = Path.Combine(directory.FullName, "nope.yaml");
            var large = Path.Combine(directory.FullName, "large.yaml");
            File.WriteAllText(large, "name: large\n" + new string('#', ScenarioLoader.FileSizeMaxBytes));
            var binary = Path.Combine(directory.FullName, "binary.yaml");
            File.WriteAllBytes(binary, [0x6e, 0x61, 0xff, 0xfe, 0x00]);

            Assert.Equal($"{missing}: file not found", FileError(missing));
            Assert.Equal($"{directory.FullName}: is a directory, not a scenario file", FileError(directory.FullName));
            Assert.StartsWith($"{large}: is larger than 1 MiB", FileError(large), StringComparison.Ordinal);
            Assert.StartsWith($"{binary}: is not UTF-8 text", FileError(binary), StringComparison.Ordinal);
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }

    [Fact]
    public void A_valid_file_loads_from_disk_and_errors_name_its_path()
    {
        var path = Path.Combine(Directory.CreateTempSubdirectory("concord-scenarios-").FullName, "tiny.yaml");
        try
        {
            File.WriteAllText(path, "\uFEFF" + Tiny);
            Assert.Equal("tiny", ScenarioLoader.LoadFile(path).Name);

            File.WriteAllText(path, Tiny.Replace("r: 1", "r: 4", StringComparison.Ordinal));
            var error = Assert.Single(Assert.Throws<ScenarioException>(() => ScenarioLoader.LoadFile(path)).Errors);
            Assert.Equal((path, 19), (error.File, error.Line));
        }
        finally
        {
            Directory.Delete(Path.GetDirectoryName(path)!, recursive: true);
        }
    }

    static IReadOnlyList<ScenarioError> ErrorsOf(string yaml) =>
        Assert.Throws<ScenarioException>(() => ScenarioLoader.Parse(yaml, "bad.yaml")).Errors;

    static string FileError(string path)
    {
        var failure = Assert.Throws<ScenarioException>(() => ScenarioLoader.LoadFile(path));
        var error = Assert.Single(failure.Errors);
        Assert.Equal((path, 0, ""), (error.File, error.Line, error.Field));
        return failure.Message;
    }
}
