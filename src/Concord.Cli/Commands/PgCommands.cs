using System.CommandLine;
using Concord.Postgres.Local;
using Npgsql;

namespace Concord.Cli.Commands;

/// <summary><c>concord pg up|down|status</c>: a throwaway local PostgreSQL cluster that outlives the command.</summary>
internal static class PgCommands
{
    public static Command Build(TextWriter output)
    {
        var dir = new Option<DirectoryInfo>("--dir")
        {
            Description = "Directory holding the cluster's data and cluster.json",
            DefaultValueFactory = _ => new DirectoryInfo(DefaultDirectory()),
        };
        var port = CliOptions.IntegerInRange("--port", 1024, 65535, "Port of the primary on 127.0.0.1 (default: a free port)");
        var standbys = CliOptions.IntegerInRange("--standbys", 0, 5, "Streaming standbys to start beside the primary");
        var durable = new Option<bool>("--durable") { Description = "Keep fsync on (off by default: a throwaway cluster survives process kills, not power loss)" };

        var up = new Command("up", "Start a local cluster (or restart a stopped one) and print how to connect") { dir, port, standbys, durable };
        up.SetAction((parse, ct) => UpAsync(output, parse.GetValue(dir)!, parse.GetValue(port), parse.GetValue(standbys) ?? 0, parse.GetValue(durable), ct));

        var status = new Command("status", "Report the cluster's servers, ports and replication; exit 1 if none is running") { dir };
        status.SetAction((parse, ct) => StatusAsync(output, parse.GetValue(dir)!, ct));

        var down = new Command("down", "Stop the cluster and delete its data directory") { dir };
        down.SetAction((parse, _) => DownAsync(output, parse.GetValue(dir)!));

        return new Command("pg", "Throwaway local PostgreSQL clusters (primary and streaming standbys) on loopback") { up, status, down };
    }

    /// <summary>
    /// Under the user's cache directory, except for root: the server then runs as the postgres OS user,
    /// which cannot enter /root, so root's clusters go under /var/tmp.
    /// </summary>
    internal static string DefaultDirectory()
    {
        if (Environment.IsPrivilegedProcess)
        {
            return "/var/tmp/concord/pg";
        }
        var cache = Environment.GetEnvironmentVariable("XDG_CACHE_HOME");
        if (string.IsNullOrEmpty(cache))
        {
            cache = Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache");
        }
        return Path.Combine(cache, "concord", "pg");
    }

    static async Task<int> UpAsync(TextWriter output, DirectoryInfo dir, int? port, int standbys, bool durable, CancellationToken ct)
    {
        var existing = LocalCluster.Open(dir.FullName);
        if (existing is not null)
        {
            if (port is { } p && p != existing.Primary.Port)
            {
                throw new UsageException($"{dir.FullName} already holds a cluster on port {existing.Primary.Port}; run 'concord pg down --dir {dir.FullName}' first to use port {p}.");
            }
            foreach (var server in new[] { existing.Primary }.Concat(existing.Standbys).Where(s => !s.IsRunning))
            {
                await server.StartAsync(ct);
                await output.WriteLineAsync($"restarted {server.Name}");
            }
            await output.WriteLineAsync($"A cluster is already running under {dir.FullName}.");
            await PrintConnectionAsync(output, existing);
            return ExitCodes.Success;
        }
        if (dir.Exists && dir.EnumerateFileSystemInfos().Any())
        {
            throw new UsageException($"{dir.FullName} is not empty and holds no cluster.json; choose an empty or new --dir.");
        }

        var cluster = await LocalCluster.StartAsync(
            new LocalClusterOptions { Directory = dir.FullName, Port = port, Standbys = standbys, Durable = durable, DeleteOnDispose = false }, ct);
        await output.WriteLineAsync($"Started PostgreSQL {cluster.MajorVersion} under {cluster.Directory}");
        await PrintConnectionAsync(output, cluster);
        return ExitCodes.Success;
    }

    static async Task PrintConnectionAsync(TextWriter output, LocalCluster cluster)
    {
        foreach (var server in new[] { cluster.Primary }.Concat(cluster.Standbys))
        {
            await output.WriteLineAsync($"{server.Name} ({server.Role.ToString().ToLowerInvariant()}): {server.Uri()}");
        }
        await output.WriteLineAsync($"psql:   psql \"{cluster.Primary.Uri()}\"");
        await output.WriteLineAsync($"Npgsql: {cluster.Primary.ConnectionString()}");
        await output.WriteLineAsync($"Stop and delete it with: concord pg down --dir {cluster.Directory}");
    }

    static async Task<int> StatusAsync(TextWriter output, DirectoryInfo dir, CancellationToken ct)
    {
        var cluster = LocalCluster.Open(dir.FullName);
        if (cluster is null)
        {
            await output.WriteLineAsync($"No cluster under {dir.FullName}.");
            return ExitCodes.Violation;
        }
        var servers = new[] { cluster.Primary }.Concat(cluster.Standbys).ToList();
        var lagBytes = cluster.Primary.IsRunning ? await ReplayLagBytesAsync(cluster.Primary, ct) : [];
        await output.WriteLineAsync($"Cluster under {cluster.Directory} (PostgreSQL {cluster.MajorVersion})");
        await output.WriteLineAsync($"{"server",-10} {"role",-8} {"port",-6} {"state",-8} {"pid",-8} replay lag");
        foreach (var s in servers)
        {
            var lag = s.Role == PostgresRole.Standby
                ? lagBytes.TryGetValue(s.Name, out var bytes) ? $"{bytes} bytes" : "not streaming"
                : "-";
            await output.WriteLineAsync(
                $"{s.Name,-10} {s.Role.ToString().ToLowerInvariant(),-8} {s.Port,-6} {(s.IsRunning ? "running" : "stopped"),-8} {s.PostmasterPid?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "-",-8} {lag}");
        }
        return servers.All(s => s.IsRunning) ? ExitCodes.Success : ExitCodes.Violation;
    }

    static async Task<Dictionary<string, long>> ReplayLagBytesAsync(PostgresServer primary, CancellationToken ct)
    {
        await using var connection = new NpgsqlConnection(primary.ConnectionString());
        await connection.OpenAsync(ct);
        await using var command = new NpgsqlCommand(
            "SELECT application_name, coalesce(pg_wal_lsn_diff(pg_current_wal_lsn(), replay_lsn), 0)::bigint FROM pg_stat_replication", connection);
        await using var reader = await command.ExecuteReaderAsync(ct);
        var lag = new Dictionary<string, long>();
        while (await reader.ReadAsync(ct))
        {
            lag[reader.GetString(0)] = reader.GetInt64(1);
        }
        return lag;
    }

    static async Task<int> DownAsync(TextWriter output, DirectoryInfo dir)
    {
        var cluster = LocalCluster.Open(dir.FullName);
        if (cluster is null)
        {
            await output.WriteLineAsync($"No cluster under {dir.FullName}; nothing to do.");
            return ExitCodes.Success;
        }
        await cluster.DestroyAsync();
        await output.WriteLineAsync($"Stopped and deleted the cluster under {dir.FullName}.");
        return ExitCodes.Success;
    }
}
