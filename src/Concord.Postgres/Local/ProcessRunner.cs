using System.Diagnostics;

namespace Concord.Postgres.Local;

/// <summary>Runs a server tool to completion with a time bound, optionally as another OS user.</summary>
internal static class ProcessRunner
{
    internal sealed record Result(int ExitCode, string StandardOutput, string StandardError);

    public static Result Run(string fileName, IReadOnlyList<string> arguments, TimeSpan timeout, string? runAsUser = null) =>
        RunAsync(fileName, arguments, timeout, runAsUser, CancellationToken.None).GetAwaiter().GetResult();

    public static async Task<Result> RunAsync(string fileName, IReadOnlyList<string> arguments, TimeSpan timeout,
        string? runAsUser, CancellationToken cancellationToken)
    {
        var info = new ProcessStartInfo
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        if (runAsUser is null)
        {
            info.FileName = fileName;
        }
        else
        {
            // initdb and postgres refuse to run as root; runuser (util-linux) switches user without a password.
            info.FileName = "runuser";
            foreach (var a in new[] { "-u", runAsUser, "--", fileName })
            {
                info.ArgumentList.Add(a);
            }
        }
        foreach (var a in arguments)
        {
            info.ArgumentList.Add(a);
        }

        using var process = Process.Start(info) ?? throw new InvalidOperationException($"Could not start {fileName}.");
        process.StandardInput.Close();
        var stdout = process.StandardOutput.ReadToEndAsync(cancellationToken);
        var stderr = process.StandardError.ReadToEndAsync(cancellationToken);
        using var timeoutSource = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeoutSource.CancelAfter(timeout);
        try
        {
            await process.WaitForExitAsync(timeoutSource.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            if (cancellationToken.IsCancellationRequested)
            {
                throw;
            }
            throw new TimeoutException($"{Describe(fileName, arguments)} did not finish within {timeout.TotalSeconds:0} s.");
        }
        return new Result(process.ExitCode, await stdout.ConfigureAwait(false), await stderr.ConfigureAwait(false));
    }

    public static async Task<Result> RunCheckedAsync(string fileName, IReadOnlyList<string> arguments, TimeSpan timeout,
        string? runAsUser, CancellationToken cancellationToken)
    {
        var result = await RunAsync(fileName, arguments, timeout, runAsUser, cancellationToken).ConfigureAwait(false);
        if (result.ExitCode != 0)
        {
            throw new PostgresToolException(
                $"{Describe(fileName, arguments)} failed with exit code {result.ExitCode}: {Tail(result.StandardError + result.StandardOutput)}");
        }
        return result;
    }

    static string Describe(string fileName, IReadOnlyList<string> arguments) =>
        $"`{Path.GetFileName(fileName)} {string.Join(' ', arguments)}`";

    internal static string Tail(string text, int maxChars = 2000)
    {
        text = text.Trim();
        return text.Length <= maxChars ? text : "…" + text[^maxChars..];
    }
}

public sealed class PostgresToolException(string message) : Exception(message);
