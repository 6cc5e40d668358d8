using System.Diagnostics;

namespace Concord.Cli.Tests;

public sealed class PgCommandTests
{
    [Fact]
    public async Task Up_prints_a_uri_psql_can_use_and_down_leaves_nothing_behind()
    {
        var dir = Path.Combine(Path.GetTempPath(), $"concord-cli-test-{Environment.ProcessId}-{Guid.NewGuid():N}");
        try
        {
            var up = await Concord.RunAsync("pg", "up", "--dir", dir);
            Assert.Equal(0, up.ExitCode);
            var uri = up.Output.Split('\n').Single(l => l.StartsWith("primary (primary): ", StringComparison.Ordinal))["primary (primary): ".Length..].Trim();
            Assert.StartsWith("postgresql://postgres@127.0.0.1:", uri, StringComparison.Ordinal);

            var psql = RunPsql(uri, "SELECT 40 + 2");
            Assert.Equal("42", psql);

            var again = await Concord.RunAsync("pg", "up", "--dir", dir);
            Assert.Equal(0, again.ExitCode);
            Assert.Contains("already running", again.Output, StringComparison.Ordinal);

            var status = await Concord.RunAsync("pg", "status", "--dir", dir);
            Assert.Equal(0, status.ExitCode);
            Assert.Matches(@"primary\s+primary\s+\d+\s+running", status.Output);
            var pid = int.Parse(System.Text.RegularExpressions.Regex.Match(status.Output, @"running\s+(\d+)").Groups[1].Value,
                System.Globalization.CultureInfo.InvariantCulture);

            var down = await Concord.RunAsync("pg", "down", "--dir", dir);
            Assert.Equal(0, down.ExitCode);
            Assert.False(Directory.Exists(dir));
            Assert.False(ProcessAlive(pid), $"postmaster {pid} still runs after 'pg down'");

            var after = await Concord.RunAsync("pg", "status", "--dir", dir);
            Assert.Equal(1, after.ExitCode);
            Assert.Contains("No cluster", after.Output, StringComparison.Ordinal);
        }
        finally
        {
            await Concord.RunAsync("pg", "down", "--dir", dir);
        }
    }

    [Theory]
    [InlineData("--port 80", "--port must be an integer between 1024 and 65535, not '80'")]
    [InlineData("--port abc", "not 'abc'")]
    [InlineData("--standbys 9", "--standbys must be an integer between 0 and 5")]
    [InlineData("--frobnicate", "--frobnicate")]
    public async Task Bad_arguments_are_a_usage_error(string arguments, string expected)
    {
        var result = await Concord.RunAsync(["pg", "up", .. arguments.Split(' ')]);
        Assert.Equal(2, result.ExitCode);
        Assert.Contains(expected, result.Error, StringComparison.Ordinal);
        Assert.Contains("concord pg up --help", result.Error, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", result.Error, StringComparison.Ordinal); // no stack trace
    }

    [Fact]
    public async Task A_missing_subcommand_is_a_usage_error()
    {
        var result = await Concord.RunAsync("pg");
        Assert.Equal(2, result.ExitCode);
        Assert.Contains("concord pg --help", result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Up_refuses_a_directory_that_holds_something_else()
    {
        var dir = Directory.CreateTempSubdirectory("concord-cli-busy-").FullName;
        try
        {
            await File.WriteAllTextAsync(Path.Combine(dir, "precious.txt"), "keep me", TestContext.Current.CancellationToken);
            var result = await Concord.RunAsync("pg", "up", "--dir", dir);
            Assert.Equal(2, result.ExitCode);
            Assert.Contains("not empty", result.Error, StringComparison.Ordinal);
            Assert.True(File.Exists(Path.Combine(dir, "precious.txt")));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public async Task A_corrupt_state_file_is_reported_with_its_path_not_a_stack_trace()
    {
        var dir = Directory.CreateTempSubdirectory("concord-cli-corrupt-").FullName;
        try
        {
            await File.WriteAllTextAsync(Path.Combine(dir, "cluster.json"), "{ not json", TestContext.Current.CancellationToken);
            var result = await Concord.RunAsync("pg", "status", "--dir", dir);
            Assert.Equal(2, result.ExitCode);
            Assert.Contains(Path.Combine(dir, "cluster.json"), result.Error, StringComparison.Ordinal);
            Assert.DoesNotContain("   at ", result.Error, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    static string RunPsql(string uri, string sql)
    {
        var info = new ProcessStartInfo("psql") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in new[] { uri, "-XAtc", sql })
        {
            info.ArgumentList.Add(a);
        }
        using var process = Process.Start(info)!;
        var output = process.StandardOutput.ReadToEnd();
        var error = process.StandardError.ReadToEnd();
        Assert.True(process.WaitForExit(30_000), "psql did not finish within 30 s");
        Assert.True(process.ExitCode == 0, $"psql failed: {error}");
        return output.Trim();
    }

    static bool ProcessAlive(int pid)
    {
        try
        {
            using var p = Process.GetProcessById(pid);
            return !p.HasExited;
        }
        catch (ArgumentException)
        {
            return false;
        }
    }
}
