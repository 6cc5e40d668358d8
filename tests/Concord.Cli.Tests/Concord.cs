namespace Concord.Cli.Tests;

/// <summary>Runs the <c>concord</c> command in-process and captures what it prints.</summary>
internal static class Concord
{
    internal sealed record Result(int ExitCode, string Output, string Error);

    public static async Task<Result> RunAsync(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        var exitCode = await ConcordCli.RunAsync(args, output, error, TestContext.Current.CancellationToken);
        return new Result(exitCode, output.ToString(), error.ToString());
    }
}
