using System.CommandLine;
using System.Globalization;
using Concord.Experiments.Commerce;
using Concord.Lab;
using Concord.Lab.Report;
using Concord.Lab.Results;
using Concord.Lab.Scenarios;
using Spectre.Console;

namespace Concord.Cli.Commands;

/// <summary>
/// <c>concord lab [SCENARIO|FILE] [--seeds N] [--out DIR]</c>: the main job. Runs a scenario's
/// variants over its seeds on the simulator, prints a before/after summary and writes the deck
/// (index.html, results.json, CSV files) to the output directory.
/// </summary>
internal static class LabCommand
{
    public static Command Build(TextWriter output, TextWriter error)
    {
        var scenarioArgument = new Argument<string>("scenario")
        {
            Description = $"A built-in scenario ({string.Join(", ", ScenarioCatalog.Names)}) or a scenario YAML file",
            DefaultValueFactory = _ => "exercise",
        };
        var seeds = CliOptions.IntegerInRange("--seeds", 1, 1_000, "Run seeds 1..N instead of the scenario's own seeds");
        var outDir = new Option<DirectoryInfo>("--out")
        {
            Description = "Where the deck goes (created if missing; files in it are replaced)",
            DefaultValueFactory = _ => new DirectoryInfo("lab-report"),
        };
        var show = new Option<bool>("--show") { Description = "Print the scenario's YAML (a starting point for your own) and exit" };
        var checkSlos = new Option<bool>("--check-slos") { Description = "Exit 1 when any SLO of the scenario fails" };
        var lab = new Command("lab", "Run a scenario before and after on the simulator and write the deck") { scenarioArgument, seeds, outDir, show, checkSlos };
        lab.SetAction((parse, cancellation) =>
        {
            string name = parse.GetValue(scenarioArgument)!;
            if (parse.GetValue(show))
            {
                output.Write(ScenarioCatalog.Names.Contains(name) ? ScenarioCatalog.Text(name) : File.ReadAllText(name));
                return Task.FromResult(ExitCodes.Success);
            }

            PlatformScenario scenario = Load(name);
            if (parse.GetValue(seeds) is { } n)
            {
                scenario = scenario with { Seeds = [.. Enumerable.Range(1, n).Select(i => (ulong)i)] };
            }

            string command = "concord " + string.Join(' ', parse.Tokens.Select(t => t.Value));
            string outPath = parse.GetValue(outDir)!.FullName;
            // Print what results.json holds (rounded once, by the writer), so the console and the deck agree.
            LabReport report = DeckWriter.Write(RunWithProgress(scenario, command.TrimEnd(), error, cancellation), outPath);
            Summarize(report, output);
            output.WriteLine($"Deck: {Path.Combine(outPath, "index.html")} (results.json and CSV files beside it)");
            bool slosPass = report.Slos.All(s => s.Passed);
            return Task.FromResult(parse.GetValue(checkSlos) && !slosPass ? ExitCodes.Violation : ExitCodes.Success);
        });
        return lab;
    }

    /// <summary>A built-in name, else a file; a name that is neither gets the list of built-ins.</summary>
    static PlatformScenario Load(string name)
    {
        if (ScenarioCatalog.Names.Contains(name))
        {
            return ScenarioCatalog.Load(name);
        }

        if (File.Exists(name) || name.EndsWith(".yaml", StringComparison.OrdinalIgnoreCase) || name.EndsWith(".yml", StringComparison.OrdinalIgnoreCase))
        {
            return ScenarioLoader.LoadFile(name);
        }

        throw new UsageException($"'{name}' is neither a built-in scenario ({string.Join(", ", ScenarioCatalog.Names)}) nor a YAML file.");
    }

    static LabReport RunWithProgress(PlatformScenario scenario, string command, TextWriter error, CancellationToken cancellation)
    {
        error.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"lab: {scenario.Name}: {scenario.Variants.Count} variant(s) × {scenario.Seeds.Count} seed(s) on the simulator"));
        if (!ReferenceEquals(error, Console.Error) || Console.IsErrorRedirected)
        {
            return LabRunner.Run(scenario, command, TimeProvider.System, new SynchronousProgress(p => error.WriteLine($"lab: [{p.Done}/{p.Total}] {p.Step}")), cancellation);
        }

        LabReport? report = null;
        var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Error) });
        console.Progress().AutoClear(true).Start(ctx =>
        {
            ProgressTask task = ctx.AddTask(scenario.Name, maxValue: 1);
            report = LabRunner.Run(scenario, command, TimeProvider.System, new SynchronousProgress(p =>
            {
                task.MaxValue = p.Total;
                task.Value = p.Done;
                task.Description = p.Step;
            }), cancellation);
        });
        return report!;
    }

    /// <summary>Reports on the caller's thread at once (Progress&lt;T&gt; would post to the thread pool and reorder lines).</summary>
    sealed class SynchronousProgress(Action<LabProgress> report) : IProgress<LabProgress>
    {
        readonly Lock _lock = new();

        public void Report(LabProgress value)
        {
            lock (_lock)
            {
                report(value);
            }
        }
    }

    /// <summary>Variants side by side, every metric a row; then the SLO verdicts.</summary>
    static void Summarize(LabReport report, TextWriter output)
    {
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Out = new AnsiConsoleOutput(output),
            Ansi = ReferenceEquals(output, Console.Out) && !Console.IsOutputRedirected ? AnsiSupport.Detect : AnsiSupport.No,
            ColorSystem = ReferenceEquals(output, Console.Out) && !Console.IsOutputRedirected ? ColorSystemSupport.Detect : ColorSystemSupport.NoColors,
        });
        output.WriteLine($"{report.Scenario}: totals over seeds {string.Join(", ", report.Seeds)} (rows that are zero everywhere are left out)");
        var table = new Table().AddColumn("metric");
        foreach (VariantTotals v in report.Variants)
        {
            table.AddColumn(new TableColumn(Markup.Escape(v.Variant)).RightAligned());
        }

        foreach (string metric in Metrics.Names)
        {
            double?[] values = [.. report.Variants.Select(v => Metrics.ValueOf(v, metric))];
            if (values.All(v => v is null or 0))
            {
                continue; // nothing measured or nothing happened in any variant: keep the table short
            }

            table.AddRow([metric, .. values.Select(v => v is { } x ? x.ToString("0.####", CultureInfo.InvariantCulture) : "–")]);
        }

        console.Write(table);
        foreach (SloVerdict slo in report.Slos)
        {
            string comparison = slo.Comparison == SloComparison.AtMost ? "≤" : "≥";
            string value = slo.Value is { } v ? v.ToString("0.####", CultureInfo.InvariantCulture) : "not measured";
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"SLO {(slo.Passed ? "PASS" : "FAIL")}  {slo.Variant}: {slo.Metric} {comparison} {slo.Threshold} (is {value})"));
        }
    }
}
