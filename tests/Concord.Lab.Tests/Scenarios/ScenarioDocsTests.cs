using System.Text.RegularExpressions;
using Concord.Experiments.Commerce;
using Concord.Lab.Results;
using Concord.Lab.Scenarios;

namespace Concord.Lab.Tests.Scenarios;

/// <summary>docs/lab.md's "Writing a scenario" must match the loader: its example loads, it names every value the loader accepts, and its sample errors are the ones the loader prints.</summary>
public sealed partial class ScenarioDocsTests
{
    /// <summary>The file behind the sample errors in the docs (they show an excerpt of it).</summary>
    const string BadFile = """
        name: two-regions
        seeds: 5
        topology:
          regions:
            - { name: eu, servers: 3, customers: 4 }
            - { name: us, servers: 3, customers: 4 }
          links:
            - { between: [eu, usa], latency: 40 }
        workload:
          duration_ms: 4000
          mix: { order: 0.5, browse: 0.5, like: 0.2 }
        faults:
          - { kind: crash, node: eu-1, at_ms: 1000, duration_ms: 500 }
          - { kind: partition, regions: [eu, us], at_ms: 2000, duration_ms: 500 }
        boundaries: [inventory, orders]
        variants:
          - name: before
            inventory: quorum_cas
            n: 3
            r: 4
          - name: after
            inventory: raft-cas

        """;

    static readonly string Section = ReadSection();

    [GeneratedRegex("```yaml\n(.*?)```", RegexOptions.Singleline)]
    private static partial Regex YamlBlock();

    [Fact]
    public void The_example_loads()
    {
        var example = YamlBlock().Match(Section).Groups[1].Value;

        var scenario = ScenarioLoader.Parse(example, "docs/lab.md");

        Assert.Equal(["before", "after"], scenario.Variants.Select(v => v.Name));
        Assert.Equal(4, scenario.Faults.Count);
    }

    [Fact]
    public void Every_value_the_loader_accepts_is_documented()
    {
        IEnumerable<string> values =
        [
            .. KebabEnum<FaultKind>.Names, .. KebabEnum<Boundary>.Names, .. KebabEnum<LedgerMode>.Names, .. KebabEnum<InventoryMode>.Names,
            .. KebabEnum<OrdersMode>.Names, .. KebabEnum<CatalogMode>.Names, .. KebabEnum<CounterMode>.Names, .. KebabEnum<WorkflowMode>.Names,
            .. Metrics.Names,
        ];

        Assert.All(values, value => Assert.Contains($"`{value}`", Section, StringComparison.Ordinal));
    }

    [Fact]
    public void The_sample_errors_are_what_the_loader_prints()
    {
        var printed = Assert.Throws<ScenarioException>(() => ScenarioLoader.Parse(BadFile, "bad.yaml")).Message.Split('\n');
        var documented = Section.Split('\n').Where(line => line.StartsWith("bad.yaml:", StringComparison.Ordinal)).ToList();

        Assert.NotEmpty(documented);
        Assert.Equal(printed, documented);
    }

    static string ReadSection()
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "Concord.slnx")))
        {
            directory = directory.Parent;
        }

        Assert.NotNull(directory);
        var text = File.ReadAllText(Path.Combine(directory.FullName, "docs", "lab.md")).ReplaceLineEndings("\n");
        var start = text.IndexOf("## Writing a scenario", StringComparison.Ordinal);
        Assert.True(start >= 0, "docs/lab.md has no section 'Writing a scenario'");
        var end = text.IndexOf("\n## ", start + 1, StringComparison.Ordinal);
        return end < 0 ? text[start..] : text[start..end];
    }
}
