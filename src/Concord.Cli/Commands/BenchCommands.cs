using System.CommandLine;
using System.Text.Json;
using Concord.Cli.Bench;
using Npgsql;

namespace Concord.Cli.Commands;

/// <summary><c>concord bench SUITE [--json]</c>: quick in-process benchmarks whose baselines run in the same process and run.</summary>
internal static class BenchCommands
{
    static readonly JsonSerializerOptions Json = new() { WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    public static Command Build(TextWriter output, TextWriter error)
    {
        var json = new Option<bool>("--json") { Description = "Print one JSON document (for scripts and docs) instead of a table" };
        var seconds = Seconds(1.0);

        var core = new Command("core", "Checksum throughput vs a memory copy of the same buffer; CRDT merges per second") { json, seconds };
        core.SetAction(parse => Report(output, "core", CoreBench.Run(TimeSpan.FromSeconds(parse.GetValue(seconds)) / 5), parse.GetValue(json)));

        var orderSeconds = Seconds(8.0);
        var pg = AdminServer.Option("a throwaway local cluster, which shares this machine's cores with the services and the clients");
        var orders = new Command("orders", "POST /orders over HTTP at 1, 8 and 32 clients, with integrity features on and off") { json, orderSeconds, pg };
        orders.SetAction(async (parse, ct) =>
        {
            var admin = parse.GetValue(pg) is { } given ? AdminServer.Parse(given) : null;
            try
            {
                var results = await OrdersBench.RunAsync(admin, AdminServer.AppPassword(), TimeSpan.FromSeconds(parse.GetValue(orderSeconds)),
                    step => error.WriteLine($"bench orders: {step}…"), ct);
                return Report(output, "orders", results, parse.GetValue(json));
            }
            catch (NpgsqlException e) when (AdminServer.IsUnusable(e))
            {
                throw AdminServer.Unusable(e, external: admin is not null);
            }
        });

        var sim = new Command("sim", "Simulator messages per second of wall time; wall time of a 10,000-operation quorum point and of the default sweep") { json };
        sim.SetAction(parse => Report(output, "sim", ModelBench.Simulator(2_000_000), parse.GetValue(json)));

        var histories = new Option<DirectoryInfo>("--histories")
        {
            Description = "Directory of recorded histories",
            DefaultValueFactory = _ => new DirectoryInfo(Path.Combine(RepositoryRoot() ?? ".", "tests", "Concord.Checkers.Tests", "TestData")),
        };
        var checker = new Command("checker", "Time to check every recorded Jepsen history for linearizability") { json, histories };
        checker.SetAction(parse => Report(output, "checker", ModelBench.Checker(parse.GetValue(histories)!), parse.GetValue(json)));

        var outbox = new Command("outbox", "Outbox → consumer messages/s with 1 and 4 relays vs an INSERT+COMMIT ceiling; order-creation p95 with and without the outbox at 1 and 8 clients; order sagas/s and p95, the checkout ceiling and the sagas/s bound") { json, seconds };
        outbox.SetAction(async (parse, ct) => Report(output, "outbox", await OutboxBench.RunAsync(10_000, 1_000, TimeSpan.FromSeconds(Math.Max(parse.GetValue(seconds), 3)),
            step => error.WriteLine($"bench outbox: {step}…"), ct), parse.GetValue(json)));

        var raft = new Command("raft", "Raft KV: committed writes per second of wall time in the simulator; simulated write, CAS and read latency with the leader near or far from the clients") { json };
        raft.SetAction(parse => Report(output, "raft", RaftBench.Run(), parse.GetValue(json)));

        var cas = new Command("cas", "Quorum CAS vs Paxos LWT vs Raft CAS on one workload: simulated latency, round trips, linearizability") { json };
        cas.SetAction(parse => Report(output, "cas", CasBench.Run(), parse.GetValue(json)));

        return new Command("bench", "Quick benchmarks that report numbers measured in the same run") { core, sim, checker, orders, outbox, raft, cas };
    }

    static Option<double> Seconds(double defaultValue)
    {
        var seconds = new Option<double>("--seconds")
        {
            Description = "Measurement time per cell in seconds (more is steadier)",
            DefaultValueFactory = _ => defaultValue,
        };
        seconds.Validators.Add(r =>
        {
            if (r.GetValueOrDefault<double>() is < 0.1 or > 600)
            {
                r.AddError("--seconds must be between 0.1 and 600.");
            }
        });
        return seconds;
    }

    /// <summary>The directory holding Concord.slnx, searched upwards from the working directory.</summary>
    static string? RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(Environment.CurrentDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Concord.slnx")))
            {
                return dir.FullName;
            }
        }
        return null;
    }

    static int Report(TextWriter output, string suite, Dictionary<string, object> results, bool json)
    {
        var document = new Dictionary<string, object>
        {
            ["suite"] = suite,
            ["machine"] = new Dictionary<string, object>
            {
                ["processors"] = Environment.ProcessorCount,
                ["os"] = System.Runtime.InteropServices.RuntimeInformation.OSDescription,
                ["runtime"] = System.Runtime.InteropServices.RuntimeInformation.FrameworkDescription,
            },
            ["results"] = results,
        };
        if (json)
        {
            output.WriteLine(JsonSerializer.Serialize(document, Json));
        }
        else
        {
            var lines = Flatten("", JsonSerializer.SerializeToElement(results, Json)).ToList();
            var width = lines.Max(l => l.Path.Length);
            foreach (var (path, value) in lines)
            {
                output.WriteLine($"{path.PadRight(width)}  {value}");
            }
        }
        return ExitCodes.Success;
    }

    /// <summary>
    /// One (path, value) per leaf, for reading in a terminal: objects by dotted names, an array of
    /// rows by its rows' first field (<c>results[concurrency=8].full.p95_ms</c>), an array of plain
    /// values on one line.
    /// </summary>
    internal static IEnumerable<(string Path, string Value)> Flatten(string path, JsonElement element)
    {
        string Child(string name) => path.Length == 0 ? name : $"{path}.{name}";
        switch (element.ValueKind)
        {
            case JsonValueKind.Object:
                return element.EnumerateObject().SelectMany(p => Flatten(Child(p.Name), p.Value));
            case JsonValueKind.Array when element.EnumerateArray().Any(i => i.ValueKind is JsonValueKind.Object or JsonValueKind.Array):
                return element.EnumerateArray().SelectMany((item, i) =>
                {
                    var first = item.ValueKind == JsonValueKind.Object ? item.EnumerateObject().FirstOrDefault() : default;
                    return first.Value.ValueKind is JsonValueKind.Number or JsonValueKind.String
                        ? item.EnumerateObject().Skip(1).SelectMany(p => Flatten($"{path}[{first.Name}={first.Value}].{p.Name}", p.Value))
                        : Flatten($"{path}[{i}]", item);
                });
            case JsonValueKind.Array:
                return [(path, $"[{string.Join(", ", element.EnumerateArray())}]")];
            default:
                return [(path, element.ToString())];
        }
    }
}
