using System.Diagnostics;

namespace Concord.Testing;

/// <summary>
/// Runs tests/Concord.CrashWorker (copied beside the test assembly by its project reference) and
/// waits for it: exit 0 means it finished its work, 137 that it SIGKILLed itself at its crash point.
/// Anything else, or a worker still running after the timeout, fails the test (and the worker is killed).
/// </summary>
public static class CrashWorkerProcess
{
    public const int Killed = 137;

    public static async Task<int> RunAsync(IEnumerable<string> args, TimeSpan timeout)
    {
        var cancel = TestContext.Current.CancellationToken;
        var info = new ProcessStartInfo("dotnet") { RedirectStandardError = true, RedirectStandardOutput = true };
        info.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "Concord.CrashWorker.dll"));
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }
        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync(cancel);
        var stderr = process.StandardError.ReadToEndAsync(cancel);
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancel);
        deadline.CancelAfter(timeout);
        try
        {
            await process.WaitForExitAsync(deadline.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true); // never leave a worker behind
            throw;
        }
        await stdout;
        return process.ExitCode is 0 or Killed
            ? process.ExitCode
            : throw new InvalidOperationException($"The crash worker failed (exit {process.ExitCode}): {await stderr}");
    }
}
