using Concord.Experiments.Commerce;
using Concord.Lab.Results;
using YamlDotNet.RepresentationModel;

namespace Concord.Lab.Scenarios;

internal sealed partial class ScenarioReader
{
    const int VariantsMax = 16;
    const int SlosMax = 100;
    const int SweepReplicationFactorsMax = 8;
    const int SweepOperationsPerPointMax = 200_000;
    const int SweepOperationsPerPointDefault = 2_000;

    /// <summary>Replicas per key: bounded by the servers there are (checked separately) and by this.</summary>
    const int ReplicasMax = RegionsMax * ServersPerRegionMax;

    /// <summary>The quorum sweep's standard topology has six servers.</summary>
    const int SweepReplicasMax = 6;

    static readonly Bounds StalenessBoundMs = new(1, DurationMsMax);
    static readonly Bounds SloThreshold = new(-1e12, 1e12);

    static readonly string[] VariantKeys = ["name", "description", "ledger", "inventory", "orders", "catalog", "likes", "workflow", "n", "r", "w", "staleness_bound_ms"];
    static readonly string[] SloKeys = ["metric", "max", "min", "variant"];
    static readonly string[] SweepKeys = ["n", "operations_per_point"];

    /// <summary>Variant names in file order, when <c>variants</c> was sound.</summary>
    IReadOnlyList<string>? variantNames;

    int? ServersTotal => serverNames?.Count;

    List<Boundary>? ReadBoundaries(YamlMap scenario) =>
        ReadList<Boundary>(scenario, "boundaries", absent: null, 1, Enum.GetValues<Boundary>().Length, $"boundaries ({string.Join(", ", KebabEnum<Boundary>.Names)})", (item, field, read) =>
        {
            if (YamlValues.Choice<Boundary>(item, field, diagnostics) is { } boundary)
            {
                AddOnce(read, boundary, item, field, $"boundary {KebabEnum<Boundary>.NameOf(boundary)} is listed twice");
            }
        });

    List<PlatformVariant>? ReadVariants(YamlMap scenario)
    {
        var variants = ReadList<PlatformVariant>(scenario, "variants", absent: null, 1, VariantsMax, "variants ({ name: before, ledger: lww, ... })", (item, field, read) =>
        {
            if (ReadVariant(item, field) is not { } variant)
            {
                return;
            }

            if (read.Any(v => v.Name == variant.Name))
            {
                diagnostics.Report(item, $"{field}.name", $"variant {YamlValues.Quote(variant.Name)} is defined twice; variant names must be unique");
                return;
            }

            read.Add(variant);
        });

        variantNames = variants?.Select(v => v.Name).ToList();
        return variants;
    }

    /// <summary>A variant: one column of the consistency map. Keys left out take <see cref="ConsistencyMapping"/>'s defaults.</summary>
    PlatformVariant? ReadVariant(YamlNode node, string field)
    {
        if (YamlMap.Read(node, field, diagnostics, VariantKeys) is not { } map)
        {
            return null;
        }

        var defaults = new ConsistencyMapping();
        var name = map.Name("name");
        var description = map.Text("description", fallback: "");
        var ledger = map.Choice<LedgerMode>("ledger", defaults.Ledger);
        var inventory = map.Choice<InventoryMode>("inventory", defaults.Inventory);
        var orders = map.Choice<OrdersMode>("orders", defaults.Orders);
        var catalog = map.Choice<CatalogMode>("catalog", defaults.Catalog);
        var likes = map.Choice<CounterMode>("likes", defaults.Likes);
        var workflow = map.Choice<WorkflowMode>("workflow", defaults.Workflow);
        var stalenessBound = map.Number("staleness_bound_ms", StalenessBoundMs, defaults.StalenessBoundMs);

        var n = map.Int("n", 1, ReplicasMax, defaults.N);
        if (n is { } replicas && ServersTotal is { } servers && replicas > servers)
        {
            diagnostics.Report(map.Get("n")!, map.FieldOf("n"), $"{replicas} replicas per key need {replicas} servers; the topology has {servers}");
            n = null;
        }

        var r = Quorum(map, "r", n, defaults.R);
        var w = Quorum(map, "w", n, defaults.W);

        if (name is null || description is null || ledger is null || inventory is null || orders is null || catalog is null || likes is null
            || workflow is null || stalenessBound is null || n is null || r is null || w is null)
        {
            return null;
        }

        var consistency = new ConsistencyMapping
        {
            Ledger = ledger.Value,
            Inventory = inventory.Value,
            Orders = orders.Value,
            Catalog = catalog.Value,
            Likes = likes.Value,
            Workflow = workflow.Value,
            N = n.Value,
            R = r.Value,
            W = w.Value,
            StalenessBoundMs = stalenessBound.Value,
        };
        return new PlatformVariant(name, consistency) { Description = description.Trim() };
    }

    /// <summary>A read or write quorum: 1..n, checked against n only when n itself is sound.</summary>
    int? Quorum(YamlMap variant, string key, int? n, int fallback)
    {
        var quorum = variant.Int(key, 1, ReplicasMax, fallback);
        if (quorum is { } q && n is { } replicas && q > replicas)
        {
            // The defaults (1) always fit, so this is a written key; the fallback to the mapping is only defensive.
            diagnostics.Report(variant.Get(key) ?? variant.Node, variant.FieldOf(key), $"must be between 1 and n ({replicas}); got {q}");
            return null;
        }

        return quorum;
    }

    List<Slo>? ReadSlos(YamlMap scenario) =>
        ReadList<Slo>(scenario, "slos", absent: [], 0, SlosMax, "SLOs ({ metric: oversells, max: 0 })", (item, field, read) =>
        {
            if (ReadSlo(item, field, variantNames) is { } slo)
            {
                read.Add(slo);
            }
        });

    /// <summary>An SLO: a known metric, exactly one of <c>max</c> (at most) and <c>min</c> (at least), optionally for one variant.</summary>
    Slo? ReadSlo(YamlNode node, string field, IReadOnlyList<string>? variants)
    {
        if (YamlMap.Read(node, field, diagnostics, SloKeys) is not { } map)
        {
            return null;
        }

        var metric = map.Get("metric", required: true) is { } metricNode ? Metric(metricNode, map.FieldOf("metric")) : null;

        (SloComparison Comparison, double? Threshold)? bound = (map.Has("max"), map.Has("min")) switch
        {
            (true, false) => (SloComparison.AtMost, map.Number("max", SloThreshold)),
            (false, true) => (SloComparison.AtLeast, map.Number("min", SloThreshold)),
            _ => null,
        };
        if (bound is null)
        {
            var problem = map.Has("max") ? "has both max and min" : "has neither max nor min";
            diagnostics.Report(map.Node, field, $"{problem}; give exactly one: max (the metric must stay at or below it) or min (at or above)");
        }

        string? variant = null;
        if (map.Get("variant") is { } variantNode && YamlValues.Name(variantNode, map.FieldOf("variant"), diagnostics) is { } name)
        {
            if (variants is not null && !variants.Contains(name))
            {
                diagnostics.Report(variantNode, map.FieldOf("variant"), $"no variant is named {YamlValues.Quote(name)} (the variants are {string.Join(", ", variants)}){Suggestions.DidYouMean(name, variants)}");
            }

            variant = name;
        }

        return metric is not null && bound is (var comparison, { } threshold)
            ? new Slo(metric, comparison, threshold) { Variant = variant }
            : null;
    }

    /// <summary>A metric name from <see cref="Metrics.Names"/>, the table the SLO verdicts read from.</summary>
    string? Metric(YamlNode node, string field)
    {
        if (YamlValues.Text(node, field, diagnostics) is not { } name)
        {
            return null;
        }

        if (!Metrics.IsKnown(name))
        {
            var hint = Suggestions.DidYouMean(name, Metrics.Names);
            var known = hint.Length > 0 ? hint : $"; the metrics are {string.Join(", ", Metrics.Names)}";
            diagnostics.Report(node, field, $"unknown metric {YamlValues.Quote(name)}{known}");
            return null;
        }

        return name;
    }

    /// <summary>The quorum sweep: every (R, W) in 1..N for each listed N.</summary>
    QuorumSweepSpec? ReadSweep(YamlMap scenario)
    {
        if (scenario.Get("sweep") is not { } node || YamlMap.Read(node, "sweep", diagnostics, SweepKeys) is not { } map)
        {
            return null;
        }

        var operations = map.Int("operations_per_point", 1, SweepOperationsPerPointMax, SweepOperationsPerPointDefault);
        var factors = ReadList<int>(map, "n", absent: null, 1, SweepReplicationFactorsMax, "replication factors, e.g. [3, 5]", (item, field, read) =>
        {
            // The sweep runs on the quorum sweep's own topology (2 regions × 3 servers), so N is at most 6.
            if (YamlValues.Integer(item, field, diagnostics, new Bounds(1, SweepReplicasMax)) is not { } n)
            {
                return;
            }

            if (ServersTotal is { } servers && n > servers)
            {
                diagnostics.Report(item, field, $"{n} replicas per key need {n} servers; the topology has {servers}");
                return;
            }

            AddOnce(read, (int)n, item, field, $"n = {n} is listed twice");
        });

        return factors is not null && operations is { } ops ? new QuorumSweepSpec(factors, ops) : null;
    }
}
