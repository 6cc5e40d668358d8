using System.Reflection;

namespace Concord.Cli.Tests;

/// <summary>
/// The dependency rule of docs/architecture.md, checked on the built assemblies: the sans-I/O cores
/// never reference Npgsql, ASP.NET Core or the projects that do I/O.
/// </summary>
public sealed class ArchitectureTests
{
    static readonly string[] SansIo = ["Concord.Core", "Concord.Replication", "Concord.Simulation", "Concord.Checkers", "Concord.Messaging", "Concord.Experiments"];
    static readonly string[] IoOnly = ["Npgsql", "Microsoft.AspNetCore", "Concord.Postgres", "Concord.Commerce", "Concord.Lab", "concord"];

    static IEnumerable<string> Present => SansIo.Where(n => File.Exists(Path.Combine(AppContext.BaseDirectory, n + ".dll")));

    public static TheoryData<string> PureAssemblies() => [.. Present];

    [Theory]
    [MemberData(nameof(PureAssemblies))]
    public void A_sans_io_core_references_no_io_library(string assemblyName)
    {
        var references = Assembly.Load(assemblyName).GetReferencedAssemblies().Select(r => r.Name!).ToList();
        var forbidden = references.Where(r => IoOnly.Any(io => r == io || r.StartsWith(io + ".", StringComparison.Ordinal))).ToList();
        Assert.True(forbidden.Count == 0, $"{assemblyName} references {string.Join(", ", forbidden)}");
    }

    [Fact]
    public void Core_depends_on_no_other_concord_project()
    {
        var references = Assembly.Load("Concord.Core").GetReferencedAssemblies().Select(r => r.Name!);
        Assert.DoesNotContain(references, r => r.StartsWith("Concord.", StringComparison.Ordinal));
    }

    [Fact]
    public void The_rule_is_checked_on_every_sans_io_core()
    {
        Assert.Equal(SansIo, Present);
    }

    [Fact]
    public void Replication_depends_on_core_only()
    {
        var references = Assembly.Load("Concord.Replication").GetReferencedAssemblies().Select(r => r.Name!);
        Assert.Equal(["Concord.Core"], references.Where(r => r.StartsWith("Concord.", StringComparison.Ordinal)));
    }
}
