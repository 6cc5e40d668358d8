namespace Concord.Cli.Tests;

public sealed class CheckCommandTests
{
    static readonly string TestData = Path.Combine(AppContext.BaseDirectory, "TestData");

    [Fact]
    public async Task Every_recorded_etcd_history_gets_its_known_verdict_in_one_process()
    {
        var verdicts = File.ReadAllLines(Path.Combine(TestData, "jepsen-etcd", "VERDICTS.txt"))
            .Where(l => l.Length > 0)
            .Select(l => l.Split(' '))
            .ToDictionary(p => p[0], p => p[1] == "linearizable" ? "linearizable" : "not linearizable");
        var files = verdicts.Keys.Select(f => Path.Combine(TestData, "jepsen-etcd", f)).ToArray();

        var result = await Concord.RunAsync(["check", "--model", "cas-register", .. files]);

        var lines = result.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(files.Length, lines.Length);
        foreach (var line in lines)
        {
            var (file, verdict) = (line[..line.LastIndexOf(": ", StringComparison.Ordinal)], line[(line.LastIndexOf(": ", StringComparison.Ordinal) + 2)..]);
            Assert.Equal(verdicts[Path.GetFileName(file)], verdict);
        }
        Assert.Equal(1, result.ExitCode); // some are not linearizable
    }

    [Fact]
    public async Task Linearizable_histories_exit_0_and_kv_histories_are_recognized()
    {
        var ok = Directory.GetFiles(Path.Combine(TestData, "jepsen-kv"), "*-ok.txt");
        var result = await Concord.RunAsync(["check", .. ok]);
        Assert.Equal(0, result.ExitCode);
        Assert.All(result.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries), l => Assert.EndsWith(": linearizable", l, StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_violation_can_be_written_as_a_self_contained_html_page()
    {
        var dir = Directory.CreateTempSubdirectory("concord-check-html-").FullName;
        try
        {
            var result = await Concord.RunAsync("check", "--html", dir, Path.Combine(TestData, "jepsen-kv", "c01-bad.txt"));
            Assert.Equal(1, result.ExitCode);
            var page = await File.ReadAllTextAsync(Path.Combine(dir, "c01-bad.html"), TestContext.Current.CancellationToken);
            Assert.Contains("<svg", page, StringComparison.Ordinal);
            Assert.DoesNotContain("http://", page.Replace("http://www.w3.org/2000/svg", "", StringComparison.Ordinal), StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public async Task The_exit_code_is_the_worst_outcome_and_unreadable_input_names_file_and_line()
    {
        var bad = Path.Combine(Path.GetTempPath(), $"concord-bad-{Guid.NewGuid():N}.log");
        await File.WriteAllTextAsync(bad, "INFO  jepsen.util - 3\t:invoke\t:cas\t[1 4]\nINFO  jepsen.util - 3\t:ok\t:frobnicate\t[1 4]\n",
            TestContext.Current.CancellationToken);
        try
        {
            var linearizable = Path.Combine(TestData, "jepsen-etcd", "etcd_002.log");
            var violating = Path.Combine(TestData, "jepsen-etcd", "etcd_000.log");

            var unknown = await Concord.RunAsync("check", "--timeout", "1ms", linearizable, violating);
            Assert.Equal(3, unknown.ExitCode);
            Assert.Contains("etcd_002.log: unknown", unknown.Output, StringComparison.Ordinal);

            var unreadable = await Concord.RunAsync("check", "--model", "cas-register", linearizable, bad, violating);
            Assert.Equal(2, unreadable.ExitCode);
            Assert.Contains($"{bad}: unreadable", unreadable.Output, StringComparison.Ordinal);
            Assert.Contains("etcd_000.log: not linearizable", unreadable.Output, StringComparison.Ordinal); // the others are still checked
            Assert.Contains($"{bad}:2:", unreadable.Error, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(bad);
        }
    }

    [Theory]
    [InlineData("--model", "graph")]
    [InlineData("--format", "csv")]
    [InlineData("--timeout", "soon")]
    public async Task Bad_options_are_usage_errors(string option, string value)
    {
        var result = await Concord.RunAsync("check", option, value, Path.Combine(TestData, "jepsen-etcd", "etcd_002.log"));
        Assert.Equal(2, result.ExitCode);
        Assert.Contains(value, result.Error, StringComparison.Ordinal);
    }
}
