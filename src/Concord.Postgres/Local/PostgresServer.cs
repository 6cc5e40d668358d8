using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Npgsql;

namespace Concord.Postgres.Local;

public enum PostgresRole
{
    Primary,
    Standby,
}

/// <summary>
/// One throwaway postmaster on a loopback port, over a data directory this process created.
/// Settings live in <c>concord.conf</c>, included from postgresql.conf, so a restart by hand with
/// plain <c>pg_ctl start</c> comes back on the same port.
/// </summary>
public sealed class PostgresServer
{
    static readonly TimeSpan ToolTimeout = TimeSpan.FromSeconds(120);
    const string SettingsFile = "concord.conf";

    readonly PostgresBinaries _binaries;

    internal PostgresServer(PostgresBinaries binaries, string name, string dataDirectory, int port, PostgresRole role, string? osUser)
    {
        _binaries = binaries;
        Name = name;
        DataDirectory = dataDirectory;
        Port = port;
        Role = role;
        OsUser = osUser;
    }

    public string Name { get; }
    public string DataDirectory { get; }
    public int Port { get; private set; }
    public PostgresRole Role { get; }

    /// <summary>The OS user the server runs as: "postgres" when this process is root, else null (the current user).</summary>
    public string? OsUser { get; }

    public string LogFile => DataDirectory + ".log";

    /// <summary>An Npgsql connection string for the superuser <c>postgres</c> (trust authentication on loopback).</summary>
    public string ConnectionString(string database = "postgres") =>
        new NpgsqlConnectionStringBuilder
        {
            Host = "127.0.0.1",
            Port = Port,
            Username = "postgres",
            Database = database,
        }.ConnectionString;

    /// <summary>The same target as a URI, which psql and libpq accept.</summary>
    public string Uri(string database = "postgres") => $"postgresql://postgres@127.0.0.1:{Port}/{database}";

    /// <summary>The postmaster's pid from postmaster.pid, when that file exists and the process lives.</summary>
    public int? PostmasterPid
    {
        get
        {
            var pidFile = Path.Combine(DataDirectory, "postmaster.pid");
            if (!File.Exists(pidFile))
            {
                return null;
            }
            var first = File.ReadLines(pidFile).FirstOrDefault();
            if (!int.TryParse(first, NumberStyles.Integer, CultureInfo.InvariantCulture, out var pid))
            {
                return null;
            }
            return ProcessAlive(pid) ? pid : null; // a dead pid is a stale file left by a crash
        }
    }

    public bool IsRunning => PostmasterPid is not null;

    internal static async Task<PostgresServer> InitPrimaryAsync(PostgresBinaries binaries, string clusterDirectory, string name,
        int? port, bool durable, string? osUser, CancellationToken cancellationToken)
    {
        var dataDirectory = Path.Combine(clusterDirectory, name);
        await ProcessRunner.RunCheckedAsync(binaries.Tool("initdb"),
            ["-D", dataDirectory, "-U", "postgres", "-A", "trust", "-E", "UTF8", "--locale=C", "--no-sync"],
            ToolTimeout, osUser, cancellationToken).ConfigureAwait(false);
        await File.AppendAllTextAsync(Path.Combine(dataDirectory, "postgresql.conf"),
            $"\ninclude_if_exists = '{SettingsFile}'\n", cancellationToken).ConfigureAwait(false);

        var server = new PostgresServer(binaries, name, dataDirectory, port ?? 0, PostgresRole.Primary, osUser);
        await server.StartOnFreePortAsync(port, durable, cancellationToken).ConfigureAwait(false);
        return server;
    }

    /// <summary>
    /// Clones a running primary with <c>pg_basebackup -R</c> (which writes standby.signal and
    /// primary_conninfo) and starts it as a hot standby streaming from that primary.
    /// </summary>
    internal static async Task<PostgresServer> CloneStandbyAsync(PostgresServer primary, string clusterDirectory, string name,
        bool durable, CancellationToken cancellationToken)
    {
        if (primary.Role != PostgresRole.Primary || !primary.IsRunning)
        {
            throw new InvalidOperationException($"A standby is cloned from a running primary; '{primary.Name}' is not one.");
        }
        var dataDirectory = Path.Combine(clusterDirectory, name);
        // application_name travels into primary_conninfo, so the primary's pg_stat_replication names this standby.
        var source = $"host=127.0.0.1 port={primary.Port} user=postgres application_name={name}";
        await ProcessRunner.RunCheckedAsync(primary._binaries.Tool("pg_basebackup"),
            ["-D", dataDirectory, "-d", source, "-R", "-X", "stream", "-c", "fast", "--no-sync"],
            ToolTimeout, primary.OsUser, cancellationToken).ConfigureAwait(false);

        var standby = new PostgresServer(primary._binaries, name, dataDirectory, 0, PostgresRole.Standby, primary.OsUser);
        await standby.StartOnFreePortAsync(null, durable, cancellationToken).ConfigureAwait(false);
        await primary.WaitForStreamingAsync(name, cancellationToken).ConfigureAwait(false);
        return standby;
    }

    async Task StartOnFreePortAsync(int? requestedPort, bool durable, CancellationToken cancellationToken)
    {
        // A free port found by binding port 0 can be taken by someone else before the postmaster binds
        // it; when that happens, pick another, a bounded number of times.
        const int attempts = 5;
        for (var attempt = 1; ; attempt++)
        {
            Port = requestedPort ?? FreeLoopbackPort();
            File.Delete(LogFile); // so the port-in-use check below reads this attempt only
            await WriteSettingsAsync(durable, cancellationToken).ConfigureAwait(false);
            try
            {
                await StartAsync(cancellationToken).ConfigureAwait(false);
                return;
            }
            catch (PostgresToolException) when (requestedPort is null && attempt < attempts && LogMentionsPortInUse())
            {
            }
        }
    }

    Task WriteSettingsAsync(bool durable, CancellationToken cancellationToken)
    {
        var settings = $"""
            # Written by Concord for a throwaway local cluster.
            listen_addresses = '127.0.0.1'
            port = {Port}
            unix_socket_directories = ''
            max_connections = 200
            wal_level = replica
            max_wal_senders = 10
            max_replication_slots = 10
            wal_keep_size = '256MB'
            hot_standby = on
            hot_standby_feedback = on
            # fsync only guards against an OS crash; a killed server process loses nothing without it.
            fsync = {(durable ? "on" : "off")}
            full_page_writes = {(durable ? "on" : "off")}
            log_line_prefix = '%m [%p] %q%u@%d '

            """;
        return File.WriteAllTextAsync(Path.Combine(DataDirectory, SettingsFile), settings, cancellationToken);
    }

    public async Task StartAsync(CancellationToken cancellationToken = default)
    {
        await ProcessRunner.RunCheckedAsync(_binaries.Tool("pg_ctl"),
            ["-D", DataDirectory, "-l", LogFile, "-w", "-t", "60", "start"],
            ToolTimeout, OsUser, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Stops the server. <c>fast</c> rolls back open transactions and shuts down cleanly;
    /// <c>immediate</c> aborts like a crash, and the next start runs WAL recovery.
    /// </summary>
    public async Task StopAsync(bool immediate = false, CancellationToken cancellationToken = default)
    {
        if (PostmasterPid is not { } pid)
        {
            return;
        }
        await ProcessRunner.RunCheckedAsync(_binaries.Tool("pg_ctl"),
            ["-D", DataDirectory, "-m", immediate ? "immediate" : "fast", "-w", "-t", "60", "stop"],
            ToolTimeout, OsUser, cancellationToken).ConfigureAwait(false);

        // pg_ctl returns once postmaster.pid is gone, a moment before the process itself has exited.
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (ProcessAlive(pid) && DateTime.UtcNow < deadline)
        {
            await Task.Delay(10, cancellationToken).ConfigureAwait(false);
        }
    }

    internal static bool ProcessAlive(int pid)
    {
        try
        {
            using var process = System.Diagnostics.Process.GetProcessById(pid);
            return !process.HasExited;
        }
        catch (ArgumentException)
        {
            return false; // no such process
        }
    }

    async Task WaitForStreamingAsync(string standbyName, CancellationToken cancellationToken)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        await using var connection = new NpgsqlConnection(ConnectionString());
        await connection.OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var command = new NpgsqlCommand(
            "SELECT count(*) FROM pg_stat_replication WHERE application_name = @name AND state = 'streaming'", connection);
        command.Parameters.AddWithValue("name", standbyName);
        while (true)
        {
            var streaming = (long)(await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))!;
            if (streaming > 0)
            {
                return;
            }
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"Standby '{standbyName}' did not start streaming from '{Name}' within 60 s; see {LogFile}.");
            }
            await Task.Delay(50, cancellationToken).ConfigureAwait(false);
        }
    }

    bool LogMentionsPortInUse() =>
        File.Exists(LogFile) && File.ReadAllText(LogFile).Contains("could not bind", StringComparison.Ordinal);

    static int FreeLoopbackPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
