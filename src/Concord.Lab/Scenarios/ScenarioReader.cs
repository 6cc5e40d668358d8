using Concord.Experiments.Commerce;
using YamlDotNet.RepresentationModel;

namespace Concord.Lab.Scenarios;

/// <summary>
/// A scenario file's YAML to a <see cref="PlatformScenario"/>, section by section: each value is
/// checked on its own (type, range, known names), then against the sections it refers to (links and
/// faults name regions and servers, SLOs name variants, quorums must fit the servers).
/// </summary>
/// <remarks>
/// A section's facts (region names, servers, run length, variant names) are kept only when the
/// section was sound. Later checks that need a fact skip when it is missing, so one mistake is
/// reported once, not again by everything that refers to it. The bounds here are the ones
/// docs/lab.md lists; change both together.
/// </remarks>
internal sealed partial class ScenarioReader
{
    public const int SeedsMax = 1_000;
    const int RegionsMax = 8;
    const int ServersPerRegionMax = 16;
    const int CustomersPerRegionMax = 100;
    const int SkusMax = 10_000;
    const int StockMax = 1_000_000;

    /// <summary>Simulated run length: ten minutes is far more than any scenario needs, and bounds a typo like an extra zero.</summary>
    const long DurationMsMax = 600_000;

    static readonly Bounds LatencyMs = new(0, 10_000);
    static readonly Bounds IntraRegionLatencyMs = new(0, 1_000);
    static readonly Bounds Share = new(0, 1);

    static readonly string[] ScenarioKeys = ["name", "description", "seeds", "topology", "workload", "faults", "boundaries", "variants", "slos", "sweep"];
    static readonly string[] TopologyKeys = ["intra_region_latency_ms", "regions", "links"];
    static readonly string[] RegionKeys = ["name", "servers", "customers"];
    static readonly string[] LinkKeys = ["between", "latency_ms", "jitter", "loss"];
    static readonly string[] WorkloadKeys = ["duration_ms", "skus", "hot_skus", "hot_stock", "stock", "hot_order_share", "mix", "price_updates_per_second", "think_time_ms", "request_timeout_ms"];
    static readonly string[] MixKeys = ["order", "browse", "like"];

    readonly ScenarioDiagnostics diagnostics;

    /// <summary>Region names in file order, when <c>topology.regions</c> was sound.</summary>
    IReadOnlyList<string>? regionNames;

    /// <summary>Server names (<c>eu-1</c>, <c>eu-2</c>, ...), when <c>topology.regions</c> was sound.</summary>
    IReadOnlyList<string>? serverNames;

    /// <summary>The run's simulated length, when <c>workload.duration_ms</c> was sound (or left out).</summary>
    long? durationMs;

    ScenarioReader(ScenarioDiagnostics diagnostics) => this.diagnostics = diagnostics;

    /// <summary>The scenario, or null when anything was reported (then <paramref name="diagnostics"/> holds every mistake found).</summary>
    public static PlatformScenario? Read(YamlNode root, ScenarioDiagnostics diagnostics) => new ScenarioReader(diagnostics).ReadScenario(root);

    PlatformScenario? ReadScenario(YamlNode root)
    {
        if (YamlMap.Read(root, "", diagnostics, ScenarioKeys) is not { } map)
        {
            return null;
        }

        // Order matters: each section may check against the facts of those before it.
        var name = map.Name("name");
        var description = map.Text("description", fallback: "");
        var seeds = ReadSeeds(map);
        var topology = ReadTopology(map);
        var workload = ReadWorkload(map);
        var faults = ReadFaults(map);
        var boundaries = ReadBoundaries(map);
        var variants = ReadVariants(map);
        var slos = ReadSlos(map);
        var sweep = ReadSweep(map);

        if (diagnostics.HasErrors || name is null || description is null || seeds is null || topology is null || workload is null
            || faults is null || boundaries is null || variants is null || slos is null)
        {
            return null;
        }

        return new PlatformScenario
        {
            Name = name,
            Description = description.Trim(),
            Seeds = seeds,
            Topology = topology,
            Workload = workload,
            Faults = faults,
            Boundaries = boundaries,
            Variants = variants,
            Slos = slos,
            Sweep = sweep,
        };
    }

    /// <summary>
    /// The list at <paramref name="key"/>, read item by item: <paramref name="readItem"/> gets each
    /// item's node, its field path and the items read so far (to spot repeats), reports what is
    /// wrong and adds what is sound. Returns the items only when the list and every item were
    /// sound. An absent key gives <paramref name="absent"/>, or is reported as missing when that is null.
    /// </summary>
    List<T>? ReadList<T>(YamlMap parent, string key, List<T>? absent, int countMin, int countMax, string items, Action<YamlNode, string, List<T>> readItem)
    {
        var field = parent.FieldOf(key);
        if (parent.Get(key, required: absent is null) is not { } node)
        {
            return absent;
        }

        if (YamlValues.List(node, field, diagnostics, countMin, countMax, items) is not { } nodes)
        {
            return null;
        }

        var errorsBefore = diagnostics.Count;
        var read = new List<T>(nodes.Count);
        for (var i = 0; i < nodes.Count; i++)
        {
            readItem(nodes[i], $"{field}[{i}]", read);
        }

        return diagnostics.Count == errorsBefore ? read : null;
    }

    /// <summary>Adds <paramref name="value"/> unless the list holds it already; a repeat is reported as <paramref name="repeated"/>.</summary>
    void AddOnce<T>(List<T> list, T value, YamlNode node, string field, string repeated)
    {
        if (list.Contains(value))
        {
            diagnostics.Report(node, field, repeated);
        }
        else
        {
            list.Add(value);
        }
    }

    /// <summary><c>seeds: 5</c> (meaning 1..5) or <c>seeds: [7, 11]</c>.</summary>
    List<ulong>? ReadSeeds(YamlMap scenario)
    {
        if (scenario.Get("seeds") is YamlScalarNode count)
        {
            if (YamlValues.TryInteger(count, out var n) && n is >= 1 and <= SeedsMax)
            {
                return [.. Enumerable.Range(1, (int)n).Select(i => (ulong)i)];
            }

            diagnostics.Report(count, scenario.FieldOf("seeds"), $"must be a count n between 1 and {SeedsMax} (meaning seeds 1..n) or a list of seeds such as [1, 2, 3]; got {YamlValues.Describe(count)}");
            return null;
        }

        return ReadList<ulong>(scenario, "seeds", absent: null, 1, SeedsMax, "seeds", (item, field, seeds) =>
        {
            if (YamlValues.Unsigned(item, field, diagnostics) is { } seed)
            {
                AddOnce(seeds, seed, item, field, $"seed {seed} is listed twice; each seed runs once per variant");
            }
        });
    }

    PlatformTopology? ReadTopology(YamlMap scenario)
    {
        if (scenario.Get("topology", required: true) is not { } node || YamlMap.Read(node, "topology", diagnostics, TopologyKeys) is not { } map)
        {
            return null;
        }

        var defaults = new PlatformTopology([], []);
        var intraRegionLatency = map.Number("intra_region_latency_ms", IntraRegionLatencyMs, defaults.IntraRegionLatencyMs);
        var regions = ReadRegions(map);
        var links = ReadLinks(map);
        return intraRegionLatency is { } intra && regions is not null && links is not null
            ? new PlatformTopology(regions, links, intra)
            : null;
    }

    List<RegionSpecification>? ReadRegions(YamlMap topology)
    {
        var regions = ReadList<RegionSpecification>(topology, "regions", absent: null, 1, RegionsMax, "regions ({ name: eu, servers: 3, customers: 4 })", (item, field, read) =>
        {
            if (YamlMap.Read(item, field, diagnostics, RegionKeys) is not { } region)
            {
                return;
            }

            var name = region.Name("name");
            var servers = region.Int("servers", 1, ServersPerRegionMax);
            var customers = region.Int("customers", 0, CustomersPerRegionMax);
            if (name is not null && read.Any(r => r.Name == name))
            {
                diagnostics.Report(region.Get("name")!, region.FieldOf("name"), $"region {YamlValues.Quote(name)} is defined twice");
            }
            else if (name is not null && servers is { } s && customers is { } c)
            {
                read.Add(new RegionSpecification(name, s, c));
            }
        });

        if (regions is null)
        {
            return null;
        }

        if (regions.Sum(r => r.Customers) == 0)
        {
            diagnostics.Report(topology.Get("regions")!, topology.FieldOf("regions"), "no region has customers, so nothing would run; give at least one region customers > 0");
            return null;
        }

        regionNames = [.. regions.Select(r => r.Name)];
        serverNames = [.. regions.SelectMany(r => Enumerable.Range(1, r.Servers).Select(k => $"{r.Name}-{k}"))];
        return regions;
    }

    /// <summary>Links are undirected in the file (<c>between: [eu, us]</c>), and every pair of regions needs exactly one.</summary>
    List<LinkSpecification>? ReadLinks(YamlMap topology)
    {
        var defaults = new LinkSpecification("", "", 0);
        var links = ReadList<LinkSpecification>(topology, "links", absent: [], 0, RegionsMax * (RegionsMax - 1) / 2, "links ({ between: [eu, us], latency_ms: 40 })", (item, field, read) =>
        {
            if (YamlMap.Read(item, field, diagnostics, LinkKeys) is not { } link)
            {
                return;
            }

            var between = RegionPair(link, "between", "a link");
            var latency = link.Number("latency_ms", LatencyMs);
            var jitter = link.Number("jitter", Share, defaults.JitterFraction);
            var loss = link.Number("loss", Share, defaults.LossRate);
            if (between is var (from, to) && read.Any(l => Connects(l, from, to)))
            {
                diagnostics.Report(link.Get("between")!, link.FieldOf("between"), $"the link between {from} and {to} is defined twice");
            }
            else if (between is var (a, b) && latency is { } ms && jitter is { } j && loss is { } l)
            {
                read.Add(new LinkSpecification(a, b, ms, j, l));
            }
        });

        if (links is null || regionNames is not { } names)
        {
            return links;
        }

        var errorsBefore = diagnostics.Count;
        for (var i = 0; i < names.Count; i++)
        {
            for (var j = i + 1; j < names.Count; j++)
            {
                var (a, b) = (names[i], names[j]);
                if (!links.Any(l => Connects(l, a, b)))
                {
                    diagnostics.Report(topology.Get("links") ?? topology.Node, topology.FieldOf("links"), $"no link between {a} and {b}: every pair of regions needs one, e.g. {{ between: [{a}, {b}], latency_ms: 40 }}");
                }
            }
        }

        return diagnostics.Count == errorsBefore ? links : null;
    }

    static bool Connects(LinkSpecification link, string a, string b) => (link.From == a && link.To == b) || (link.From == b && link.To == a);

    /// <summary>Two different, known regions, as links (<c>between</c>) and partitions (<c>regions</c>) name them.</summary>
    (string A, string B)? RegionPair(YamlMap map, string key, string what)
    {
        var field = map.FieldOf(key);
        if (map.Get(key, required: true) is not { } node
            || YamlValues.List(node, field, diagnostics, 2, 2, "regions, e.g. [eu, us]") is not { } items)
        {
            return null;
        }

        var a = Region(items[0], $"{field}[0]");
        var b = Region(items[1], $"{field}[1]");
        if (a is null || b is null)
        {
            return null;
        }

        if (a == b)
        {
            diagnostics.Report(node, field, $"{what} needs two different regions; got {a} twice");
            return null;
        }

        return (a, b);
    }

    /// <summary>A region name that the topology defines (checked only when the topology was sound).</summary>
    string? Region(YamlNode node, string field)
    {
        if (YamlValues.Name(node, field, diagnostics) is not { } name)
        {
            return null;
        }

        if (regionNames is { } names && !names.Contains(name))
        {
            diagnostics.Report(node, field, $"unknown region {YamlValues.Quote(name)} (the regions are {string.Join(", ", names)}){Suggestions.DidYouMean(name, names)}");
            return null;
        }

        return name;
    }

    /// <summary>Every key is optional; the defaults are <see cref="PlatformWorkload"/>'s.</summary>
    PlatformWorkload? ReadWorkload(YamlMap scenario)
    {
        var defaults = new PlatformWorkload();
        if (scenario.Get("workload") is not { } node)
        {
            durationMs = defaults.DurationMs;
            return defaults;
        }

        if (YamlMap.Read(node, "workload", diagnostics, WorkloadKeys) is not { } map)
        {
            return null;
        }

        var duration = map.Integer("duration_ms", new Bounds(1, DurationMsMax), defaults.DurationMs);
        var skus = map.Int("skus", 1, SkusMax, defaults.Skus);
        var hotSkus = map.Int("hot_skus", 0, SkusMax, defaults.HotSkus);
        if (skus is { } all && hotSkus is { } hot && hot > all)
        {
            diagnostics.Report(map.Get("hot_skus")!, map.FieldOf("hot_skus"), $"must be at most skus ({all}); got {hot}");
            hotSkus = null;
        }

        var hotStock = map.Int("hot_stock", 0, StockMax, defaults.HotStock);
        var stock = map.Int("stock", 0, StockMax, defaults.Stock);
        var hotOrderShare = map.Number("hot_order_share", Share, defaults.HotOrderShare);
        var mix = ReadMix(map, defaults);
        var priceUpdates = map.Number("price_updates_per_second", new Bounds(0, 1_000), defaults.PriceUpdatesPerSecond);
        var thinkTime = map.Number("think_time_ms", new Bounds(0, 60_000), defaults.ThinkTimeMs);
        var requestTimeout = map.Integer("request_timeout_ms", new Bounds(1, DurationMsMax), defaults.RequestTimeoutMs);

        durationMs = duration;
        if (duration is null || skus is null || hotSkus is null || hotStock is null || stock is null || hotOrderShare is null
            || mix is not var (order, browse, like) || priceUpdates is null || thinkTime is null || requestTimeout is null)
        {
            return null;
        }

        return new PlatformWorkload
        {
            DurationMs = duration.Value,
            Skus = skus.Value,
            HotSkus = hotSkus.Value,
            HotStock = hotStock.Value,
            Stock = stock.Value,
            HotOrderShare = hotOrderShare.Value,
            OrderShare = order,
            BrowseShare = browse,
            LikeShare = like,
            PriceUpdatesPerSecond = priceUpdates.Value,
            ThinkTimeMs = thinkTime.Value,
            RequestTimeoutMs = requestTimeout.Value,
        };
    }

    /// <summary>The shares of the customers' steps. A share left out is 0 (a mix says what customers do); they must sum to 1.</summary>
    (double Order, double Browse, double Like)? ReadMix(YamlMap workload, PlatformWorkload defaults)
    {
        if (workload.Get("mix") is not { } node)
        {
            return (defaults.OrderShare, defaults.BrowseShare, defaults.LikeShare);
        }

        if (YamlMap.Read(node, workload.FieldOf("mix"), diagnostics, MixKeys) is not { } mix)
        {
            return null;
        }

        // Read all three before looking at any, so each wrong share is reported.
        var shares = (Order: mix.Number("order", Share, 0), Browse: mix.Number("browse", Share, 0), Like: mix.Number("like", Share, 0));
        if (shares is not (Order: { } order, Browse: { } browse, Like: { } like))
        {
            return null;
        }

        const double Tolerance = 0.001;
        var sum = order + browse + like;
        if (Math.Abs(sum - 1) > Tolerance)
        {
            diagnostics.Report(node, mix.Field, $"the shares must sum to 1 (±{YamlValues.Format(Tolerance)}); got {YamlValues.Format(order)} + {YamlValues.Format(browse)} + {YamlValues.Format(like)} = {YamlValues.Format(sum)}");
            return null;
        }

        return (order, browse, like);
    }
}
