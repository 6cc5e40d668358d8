namespace Concord.Postgres.Local;

/// <summary>
/// The PostgreSQL server programs (initdb, pg_ctl, postgres, pg_basebackup) of one installation.
/// </summary>
public sealed record PostgresBinaries(string BinDirectory, int MajorVersion)
{
    /// <summary>Environment variable naming a bin directory; it wins over every other place.</summary>
    public const string BinDirectoryVariable = "CONCORD_PG_BIN";

    static readonly string[] RequiredTools = ["initdb", "pg_ctl", "postgres", "pg_basebackup"];

    public const string InstallHint =
        "PostgreSQL server binaries (initdb, pg_ctl, postgres, pg_basebackup) were not found. " +
        "Install them (Debian/Ubuntu: `apt-get install postgresql`), or point " + BinDirectoryVariable +
        " at their bin directory (e.g. /usr/lib/postgresql/15/bin).";

    public string Tool(string name) => Path.Combine(BinDirectory, name);

    /// <summary>Finds the binaries or throws <see cref="PostgresNotFoundException"/> saying how to install them.</summary>
    public static PostgresBinaries Locate()
    {
        var searched = new List<string>();
        foreach (var candidate in Candidates())
        {
            searched.Add(candidate);
            if (RequiredTools.All(t => File.Exists(Path.Combine(candidate, t))))
            {
                return new PostgresBinaries(candidate, ReadMajorVersion(candidate));
            }
        }
        throw new PostgresNotFoundException(InstallHint + " Searched: " + string.Join(", ", searched.Distinct()) + ".");
    }

    /// <summary>
    /// Search order: CONCORD_PG_BIN, then the directories on PATH (a symlinked initdb, as Debian
    /// installs in /usr/local/bin, is followed to its real directory, where pg_basebackup lives too),
    /// then /usr/lib/postgresql/*/bin, newest major version first.
    /// </summary>
    static IEnumerable<string> Candidates()
    {
        var configured = Environment.GetEnvironmentVariable(BinDirectoryVariable);
        if (!string.IsNullOrWhiteSpace(configured))
        {
            yield return Path.GetFullPath(configured);
            yield break; // an explicit choice is not second-guessed
        }

        foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
        {
            var initdb = Path.Combine(dir, "initdb");
            if (!File.Exists(initdb))
            {
                continue;
            }
            var target = new FileInfo(initdb).ResolveLinkTarget(returnFinalTarget: true);
            yield return target is null ? dir : Path.GetDirectoryName(target.FullName)!;
        }

        const string debianRoot = "/usr/lib/postgresql";
        if (Directory.Exists(debianRoot))
        {
            var versions = Directory.GetDirectories(debianRoot)
                .Select(d => (dir: d, major: int.TryParse(Path.GetFileName(d), out var v) ? v : -1))
                .Where(x => x.major > 0)
                .OrderByDescending(x => x.major);
            foreach (var (dir, _) in versions)
            {
                yield return Path.Combine(dir, "bin");
            }
        }
    }

    static int ReadMajorVersion(string binDirectory)
    {
        // "postgres (PostgreSQL) 15.18 (Debian 15.18-0+deb12u1)"
        var output = ProcessRunner.Run(Path.Combine(binDirectory, "postgres"), ["--version"], TimeSpan.FromSeconds(30)).StandardOutput;
        var token = output.Split(' ', StringSplitOptions.RemoveEmptyEntries).FirstOrDefault(t => t.Length > 0 && char.IsDigit(t[0]));
        if (token is null || !int.TryParse(token.Split('.')[0], out var major))
        {
            throw new PostgresNotFoundException($"Could not read the PostgreSQL version from `postgres --version` in {binDirectory}: '{output.Trim()}'.");
        }
        return major;
    }
}

public sealed class PostgresNotFoundException(string message) : Exception(message);
