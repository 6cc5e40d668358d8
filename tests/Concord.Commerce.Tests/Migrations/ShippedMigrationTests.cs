using System.Text;
using Concord.Commerce;

namespace Concord.Commerce.Tests.Migrations;

/// <summary>
/// A migration that has shipped is applied somewhere, and the runner refuses to start against a
/// database whose applied file changed since, comments included (its checksum covers the whole
/// text). So every shipped file's checksum is pinned in <c>shipped-migrations.txt</c>: editing one
/// fails here, before it fails someone's start-up; a new file is added to the list.
/// </summary>
public sealed class ShippedMigrationTests
{
    static readonly string PinFile = Path.Combine(AppContext.BaseDirectory, "Migrations", "shipped-migrations.txt");

    static IEnumerable<string> Current()
    {
        var sets = Enum.GetValues<CommerceService>().Select(s => (s.ToString(), CommerceDatabases.Migrations(s)))
            .Append(("Bus", CommerceDatabases.BusMigrations()));
        return sets.SelectMany(set => set.Item2.Migrations.Select(m => $"{set.Item1} {m.Version:D4}_{m.Name} {m.Checksum}"));
    }

    [Fact]
    public void No_shipped_migration_has_changed_and_every_migration_is_pinned()
    {
        var pinned = File.ReadAllLines(PinFile).Where(l => l.Length > 0 && !l.StartsWith('#')).ToList();
        var current = Current().ToList();
        var problems = new StringBuilder();
        // "Service 0001_name checksum": a line's migration is everything before its checksum.
        static string Migration(string line) => line[..line.LastIndexOf(' ')];
        foreach (var line in pinned.Except(current))
        {
            var name = Migration(line);
            problems.AppendLine(current.Any(c => Migration(c) == name)
                ? $"{name} changed after it shipped: restore it and put the change in a new migration"
                : $"{name} is pinned but no longer shipped");
        }
        foreach (var line in current.Except(pinned))
        {
            if (!pinned.Any(p => Migration(p) == Migration(line)))
            {
                problems.AppendLine($"new migration, pin it in tests/Concord.Commerce.Tests/Migrations/shipped-migrations.txt: {line}");
            }
        }
        Assert.True(problems.Length == 0, problems.ToString());
    }
}
