using System.Reflection;
using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;

namespace Concord.Postgres.Migrations;

/// <summary>One versioned SQL file, e.g. <c>0003_add_reserved_qty.sql</c>.</summary>
public sealed record Migration(int Version, string Name, string Sql, string Source)
{
    /// <summary>SHA-256 of the SQL with line endings normalized, so a checkout on Windows does not look edited.</summary>
    public string Checksum { get; } = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(Sql.ReplaceLineEndings("\n"))));
}

/// <summary>
/// An ordered set of migrations, loaded from a directory or from embedded resources. File names are
/// <c>NNNN_snake_case_name.sql</c>; versions are unique, start at 1 and have no gaps, so that two
/// branches that both add "version 5" collide at load time instead of in production.
/// </summary>
public sealed partial class MigrationSet
{
    [GeneratedRegex(@"^(?<version>\d{4})_(?<name>[a-z0-9_]+)\.sql$")]
    private static partial Regex FileNamePattern();

    MigrationSet(IReadOnlyList<Migration> migrations) => Migrations = migrations;

    public IReadOnlyList<Migration> Migrations { get; }

    public static MigrationSet FromDirectory(string directory)
    {
        if (!Directory.Exists(directory))
        {
            throw new MigrationException($"Migration directory {directory} does not exist.");
        }
        return Create(Directory.GetFiles(directory, "*.sql").Select(path => (Path.GetFileName(path), File.ReadAllText(path), path)));
    }

    /// <summary>Loads every embedded resource whose name ends in <c>.sql</c> and contains <paramref name="folder"/> (e.g. "Inventory.Migrations").</summary>
    public static MigrationSet FromEmbeddedResources(Assembly assembly, string folder)
    {
        var prefix = $"{assembly.GetName().Name}.{folder}.";
        var files = assembly.GetManifestResourceNames()
            .Where(n => n.StartsWith(prefix, StringComparison.Ordinal) && n.EndsWith(".sql", StringComparison.Ordinal))
            .Select(n =>
            {
                using var stream = assembly.GetManifestResourceStream(n)!;
                using var reader = new StreamReader(stream, Encoding.UTF8);
                return (n[prefix.Length..], reader.ReadToEnd(), $"{assembly.GetName().Name}:{n}");
            });
        return Create(files);
    }

    static MigrationSet Create(IEnumerable<(string FileName, string Sql, string Source)> files)
    {
        var migrations = new List<Migration>();
        foreach (var (fileName, sql, source) in files)
        {
            var match = FileNamePattern().Match(fileName);
            if (!match.Success)
            {
                throw new MigrationException($"{source}: a migration file is named NNNN_snake_case_name.sql (e.g. 0001_create_stock.sql), not '{fileName}'.");
            }
            if (string.IsNullOrWhiteSpace(sql))
            {
                throw new MigrationException($"{source}: the migration is empty.");
            }
            migrations.Add(new Migration(int.Parse(match.Groups["version"].Value, System.Globalization.CultureInfo.InvariantCulture),
                match.Groups["name"].Value, sql, source));
        }
        migrations.Sort((a, b) => a.Version.CompareTo(b.Version));
        for (var i = 0; i < migrations.Count; i++)
        {
            if (migrations[i].Version != i + 1)
            {
                var expected = i + 1;
                var duplicate = i > 0 && migrations[i].Version == migrations[i - 1].Version;
                throw new MigrationException(duplicate
                    ? $"{migrations[i].Source}: version {migrations[i].Version} is used twice (also by {migrations[i - 1].Source})."
                    : $"{migrations[i].Source}: versions must run 1, 2, 3… without gaps; expected {expected:D4}, found {migrations[i].Version:D4}.");
            }
        }
        if (migrations.Count == 0)
        {
            throw new MigrationException("The migration set is empty.");
        }
        return new MigrationSet(migrations);
    }
}

/// <summary>A migration problem that must stop start-up; the message names the file and what is wrong.</summary>
public sealed class MigrationException(string message, Exception? inner = null) : Exception(message, inner);
