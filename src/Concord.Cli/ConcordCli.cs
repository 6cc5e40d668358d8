using System.CommandLine;
using Concord.Cli.Commands;
using Concord.Postgres.Local;
using Concord.Postgres.Migrations;

namespace Concord.Cli;

/// <summary>The <c>concord</c> command: parsing, dispatch and the mapping of failures to exit codes.</summary>
internal static class ConcordCli
{
    public static RootCommand Build(TextWriter output, TextWriter error)
    {
        var root = new RootCommand("Concord: keep business invariants true across services and regions, and prove it.");
        root.Subcommands.Add(LabCommand.Build(output, error));
        root.Subcommands.Add(SimCommands.Build(output, error));
        root.Subcommands.Add(CheckCommand.Build(output, error));
        root.Subcommands.Add(ServeCommand.Build(output));
        root.Subcommands.Add(PgCommands.Build(output));
        root.Subcommands.Add(BenchCommands.Build(output, error));
        return root;
    }

    public static async Task<int> RunAsync(string[] args, TextWriter output, TextWriter error, CancellationToken cancellationToken = default)
    {
        var root = Build(output, error);
        var parsed = root.Parse(args);
        if (parsed.Errors.Count > 0)
        {
            foreach (var parseError in parsed.Errors)
            {
                await error.WriteLineAsync($"concord: {parseError.Message}");
            }
            await error.WriteLineAsync($"Run '{UsageHint(parsed)} --help' for usage.");
            return ExitCodes.Usage;
        }
        try
        {
            return await parsed.InvokeAsync(new InvocationConfiguration
            {
                Output = output,
                Error = error,
                EnableDefaultExceptionHandler = false,
                // Ctrl+C cancels the command's token; give it time to stop servers and delete
                // throwaway clusters before the process is ended.
                ProcessTerminationTimeout = TimeSpan.FromSeconds(60),
            }, cancellationToken);
        }
        catch (Exception e) when (e is UsageException or Lab.Scenarios.ScenarioException or PostgresNotFoundException or MigrationException or PostgresToolException
            or Npgsql.NpgsqlException or IOException or UnauthorizedAccessException or AggregateException)
        {
            // The environment or the input is not what the command needs (no PostgreSQL, a busy port,
            // an edited migration, an unreachable server): say what, without a stack trace.
            await error.WriteLineAsync($"concord: {e.Message}");
            return ExitCodes.Usage;
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // A bug in Concord: one line and exit 3 (unknown), rather than a crash.
            await error.WriteLineAsync($"concord: internal error: {e.GetType().Name}: {e.Message}");
            return ExitCodes.Unknown;
        }
    }

    static string UsageHint(ParseResult parsed)
    {
        var names = new List<string>();
        for (var command = parsed.CommandResult; command is not null; command = command.Parent as System.CommandLine.Parsing.CommandResult)
        {
            names.Add(command.Command is RootCommand ? "concord" : command.Command.Name);
        }
        names.Reverse();
        return string.Join(' ', names);
    }
}
