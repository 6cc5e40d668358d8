using Concord.Experiments.Commerce;
using YamlDotNet.RepresentationModel;

namespace Concord.Lab.Scenarios;

internal sealed partial class ScenarioReader
{
    const int FaultsMax = 100;
    static readonly Bounds SkewMs = new(-60_000, 60_000);
    static readonly Bounds DriftPpm = new(-100_000, 100_000);

    /// <summary>Each fault kind takes its own keys, so a <c>node</c> on a partition is reported rather than ignored.</summary>
    static readonly Dictionary<FaultKind, string[]> FaultKeys = new()
    {
        [FaultKind.Partition] = ["kind", "regions", "at_ms", "duration_ms"],
        [FaultKind.Crash] = ["kind", "node", "at_ms", "duration_ms"],
        [FaultKind.LeaderFailover] = ["kind", "at_ms", "duration_ms"],
        [FaultKind.ClockSkew] = ["kind", "node", "skew_ms", "drift_ppm", "at_ms", "duration_ms"],
    };

    /// <summary>The keys of any kind: used when the kind itself is missing or wrong, so other keys are not flagged on a guess.</summary>
    static readonly string[] AnyFaultKeys = [.. FaultKeys.Values.SelectMany(k => k).Distinct()];

    List<PlatformFault>? ReadFaults(YamlMap scenario) =>
        ReadList<PlatformFault>(scenario, "faults", absent: [], 0, FaultsMax, "faults ({ kind: crash, node: eu-1, at_ms: 1000, duration_ms: 500 })", (item, field, read) =>
        {
            if (ReadFault(item, field) is { } fault)
            {
                read.Add(fault);
            }
        });

    PlatformFault? ReadFault(YamlNode node, string field)
    {
        // The kind decides which keys are valid, so read it before the rest of the mapping.
        var kindNode = node is YamlMappingNode mapping
            ? mapping.Children.FirstOrDefault(child => child.Key is YamlScalarNode { Value: "kind" }).Value
            : null;
        var kind = kindNode is null ? null : YamlValues.Choice<FaultKind>(kindNode, YamlMap.Join(field, "kind"), diagnostics);
        var kindName = kind is { } k ? KebabEnum<FaultKind>.NameOf(k) : null;
        var keys = kind is { } known ? FaultKeys[known] : AnyFaultKeys;
        if (YamlMap.Read(node, field, diagnostics, keys, kindName is null ? null : $"a {kindName} fault takes") is not { } map)
        {
            return null;
        }

        if (kindNode is null)
        {
            diagnostics.Report(map.Node, map.FieldOf("kind"), $"required key is missing (one of {string.Join(", ", KebabEnum<FaultKind>.Names)})");
        }

        var at = map.Integer("at_ms", new Bounds(0, DurationMsMax));
        if (at is { } start && durationMs is { } runLength && start >= runLength)
        {
            diagnostics.Report(map.Get("at_ms")!, map.FieldOf("at_ms"), $"starts at {start} ms, when the run is already over (workload.duration_ms is {runLength})");
            at = null;
        }

        var duration = map.Integer("duration_ms", new Bounds(1, DurationMsMax));
        if (kind is not { } faultKind)
        {
            return null;
        }

        // What the fault hits is read even when its timing is wrong, so both mistakes are reported.
        var target = ReadFaultTarget(map, new PlatformFault(faultKind, 0, 0));
        return target is not null && at is { } atMs && duration is { } durationValue
            ? target with { AtMs = atMs, DurationMs = durationValue }
            : null;
    }

    /// <summary>The kind-specific part of a fault: which regions, which server, how much skew.</summary>
    PlatformFault? ReadFaultTarget(YamlMap map, PlatformFault fault)
    {
        switch (fault.Kind)
        {
            case FaultKind.Partition:
                return RegionPair(map, "regions", "a partition") is var (a, b) ? fault with { Region = a, OtherRegion = b } : null;
            case FaultKind.Crash:
                return Server(map) is { } crashed ? fault with { Node = crashed } : null;
            case FaultKind.LeaderFailover:
                return fault;
            case FaultKind.ClockSkew:
                var skewed = Server(map);
                var skew = map.Number("skew_ms", SkewMs, 0);
                var drift = map.Number("drift_ppm", DriftPpm, 0);
                if (skew is 0 && drift is 0)
                {
                    diagnostics.Report(map.Node, map.Field, "a clock-skew fault needs skew_ms or drift_ppm (or both) other than 0");
                    return null;
                }

                return skewed is not null && skew is { } skewMs && drift is { } driftPpm
                    ? fault with { Node = skewed, SkewMs = skewMs, DriftPpm = driftPpm }
                    : null;
            default:
                throw new InvalidOperationException($"Fault kind {fault.Kind} has keys but no reader.");
        }
    }

    /// <summary>A server name, <c>region-k</c> with k counted from 1 within the region's servers.</summary>
    string? Server(YamlMap fault)
    {
        var field = fault.FieldOf("node");
        if (fault.Get("node", required: true) is not { } node || YamlValues.Text(node, field, diagnostics) is not { } name)
        {
            return null;
        }

        if (serverNames is { } names && !names.Contains(name))
        {
            diagnostics.Report(node, field, $"unknown server {YamlValues.Quote(name)} (servers are named region-k: {string.Join(", ", names)}){Suggestions.DidYouMean(name, names)}");
            return null;
        }

        return name;
    }
}
