using System.CommandLine;
using System.Globalization;
using System.Text.RegularExpressions;
using Concord.Checkers.Histories;
using Concord.Checkers.Histories.Formats;
using Concord.Checkers.Linearizability;

namespace Concord.Cli.Commands;

/// <summary>
/// <c>concord check HISTORY...</c>: linearizability of recorded histories, one line per file, in one
/// process. The exit code is the worst outcome, ranked 0 linearizable &lt; 1 not linearizable &lt;
/// 3 unknown &lt; 2 unreadable: a file that could not even be read says least about the system.
/// </summary>
internal static partial class CheckCommand
{
    public static Command Build(TextWriter output, TextWriter error)
    {
        var files = new Argument<FileInfo[]>("HISTORY") { Description = "History files to check", Arity = ArgumentArity.OneOrMore };
        var model = new Option<string?>("--model") { Description = $"The model: {string.Join(", ", Models.Names)} (default: inferred per file)" };
        model.AcceptOnlyFromAmong([.. Models.Names]);
        var format = new Option<string>("--format")
        {
            Description = $"History format: {string.Join(", ", HistoryReader.FormatNames)}",
            DefaultValueFactory = _ => "auto",
        };
        format.AcceptOnlyFromAmong([.. HistoryReader.FormatNames]);
        var timeout = new Option<TimeSpan>("--timeout")
        {
            Description = "Time budget per file, e.g. 30s, 500ms, 2m; past it the verdict is unknown",
            DefaultValueFactory = _ => TimeSpan.FromSeconds(30),
            CustomParser = result => ParseDuration(result),
        };
        var html = new Option<DirectoryInfo?>("--html") { Description = "Write each violation as a self-contained HTML page into this directory" };
        var verbose = new Option<bool>("--explain") { Description = "Print why each violation cannot be linearized" };

        var command = new Command("check", "Check recorded histories for linearizability (exit 0 all linearizable, 1 a violation, 3 unknown, 2 unreadable)")
        {
            files, model, format, timeout, html, verbose,
        };
        command.SetAction(parse => Run(output, error, parse.GetValue(files)!, parse.GetValue(model), parse.GetValue(format)!, parse.GetValue(timeout),
            parse.GetValue(html), parse.GetValue(verbose)));
        return command;
    }

    [GeneratedRegex(@"^(?<n>\d+(\.\d+)?)(?<unit>ms|s|m)$")]
    private static partial Regex DurationPattern();

    static TimeSpan ParseDuration(System.CommandLine.Parsing.ArgumentResult result)
    {
        var token = result.Tokens.Count == 1 ? result.Tokens[0].Value : "";
        var match = DurationPattern().Match(token);
        if (!match.Success)
        {
            result.AddError($"--timeout must be a duration such as 30s, 500ms or 2m, not '{token}'.");
            return default;
        }
        var n = double.Parse(match.Groups["n"].Value, CultureInfo.InvariantCulture);
        var duration = match.Groups["unit"].Value switch { "ms" => TimeSpan.FromMilliseconds(n), "s" => TimeSpan.FromSeconds(n), _ => TimeSpan.FromMinutes(n) };
        if (duration <= TimeSpan.Zero || duration > TimeSpan.FromHours(24))
        {
            result.AddError($"--timeout must be between 1ms and 24h, not '{token}'.");
        }
        return duration;
    }

    static int Run(TextWriter output, TextWriter error, FileInfo[] files, string? modelName, string formatName, TimeSpan timeout,
        DirectoryInfo? html, bool explain)
    {
        var format = HistoryReader.ParseFormatName(formatName);
        var worst = ExitCodes.Success;
        foreach (var file in files)
        {
            var (code, line) = CheckOne(file, modelName, format, timeout, html, explain, error);
            output.WriteLine($"{file}: {line}");
            worst = Rank(code) > Rank(worst) ? code : worst;
        }
        return worst;
    }

    static int Rank(int exitCode) => exitCode switch
    {
        ExitCodes.Success => 0,
        ExitCodes.Violation => 1,
        ExitCodes.Unknown => 2,
        _ => 3,
    };

    static (int Code, string Line) CheckOne(FileInfo file, string? modelName, HistoryFormat format, TimeSpan timeout, DirectoryInfo? html,
        bool explain, TextWriter error)
    {
        History history;
        try
        {
            using var reader = file.OpenText();
            history = HistoryReader.Read(reader, file.ToString(), format);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or HistoryReadException)
        {
            error.WriteLine(e is HistoryReadException ? e.Message : $"{file}: cannot read: {e.Message}");
            return (ExitCodes.Usage, "unreadable");
        }

        var model = modelName is null ? Models.Infer(history) : Models.ByName(modelName);
        LinearizabilityResult result;
        try
        {
            result = LinearizabilityChecker.Check(history, model, CheckBudget.Within(timeout, TimeProvider.System));
        }
        catch (ModelMismatchException e)
        {
            error.WriteLine(e.Message);
            return (ExitCodes.Usage, $"unreadable as a {model.Name} history");
        }

        switch (result.Verdict)
        {
            case LinearizabilityVerdict.Linearizable:
                return (ExitCodes.Success, "linearizable");
            case LinearizabilityVerdict.NotLinearizable:
                if (explain)
                {
                    error.WriteLine(result.Describe());
                }
                if (html is not null)
                {
                    html.Create();
                    var page = Path.Combine(html.FullName, Path.GetFileNameWithoutExtension(file.Name) + ".html");
                    File.WriteAllText(page, LinearizabilityHtmlReport.Render(result));
                    error.WriteLine($"{file}: violation written to {page}");
                }
                return (ExitCodes.Violation, "not linearizable");
            default:
                error.WriteLine($"{file}: {result.UnknownReason}");
                return (ExitCodes.Unknown, "unknown");
        }
    }
}
