using System.Text.Json;

namespace Concord.Postgres.Local;

public sealed record LocalClusterOptions
{
    /// <summary>Where the data directories go; a fresh temporary directory when null. Must not exist or be empty.</summary>
    public string? Directory { get; init; }

    /// <summary>The primary's port; a free loopback port when null.</summary>
    public int? Port { get; init; }

    /// <summary>Streaming standbys to start from the primary with pg_basebackup -R.</summary>
    public int Standbys { get; init; }

    /// <summary>fsync on. Off by default: throwaway clusters only need to survive process kills, not power loss.</summary>
    public bool Durable { get; init; }

    /// <summary>Stop the servers and delete the directory on dispose (tests); false leaves it running (<c>concord pg up</c>).</summary>
    public bool DeleteOnDispose { get; init; } = true;
}

/// <summary>
/// A throwaway PostgreSQL cluster on loopback: one primary and zero or more streaming standbys,
/// all under one directory that also holds <c>cluster.json</c>, so another process
/// (<c>concord pg status</c>, <c>concord pg down</c>) can find and stop it.
/// </summary>
public sealed class LocalCluster : IAsyncDisposable
{
    public const string StateFileName = "cluster.json";
    const string OsUserWhenRoot = "postgres";

    readonly PostgresBinaries _binaries;
    readonly List<PostgresServer> _standbys = [];
    readonly bool _durable;
    readonly bool _deleteOnDispose;

    LocalCluster(PostgresBinaries binaries, string directory, PostgresServer primary, bool durable, bool deleteOnDispose)
    {
        _binaries = binaries;
        Directory = directory;
        Primary = primary;
        _durable = durable;
        _deleteOnDispose = deleteOnDispose;
    }

    public string Directory { get; }
    public PostgresServer Primary { get; }
    public IReadOnlyList<PostgresServer> Standbys => _standbys;
    public int MajorVersion => _binaries.MajorVersion;

    public static async Task<LocalCluster> StartAsync(LocalClusterOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(options.Standbys);
        if (options.Port is { } p && (p < 1024 || p > 65535))
        {
            throw new ArgumentOutOfRangeException(nameof(options), $"Port {p} is outside 1024–65535.");
        }
        var binaries = PostgresBinaries.Locate();
        var osUser = Environment.IsPrivilegedProcess ? OsUserWhenRoot : null;
        var directory = options.Directory is null ? System.IO.Directory.CreateTempSubdirectory("concord-pg-").FullName : Path.GetFullPath(options.Directory);
        var createdHere = options.Directory is null || !System.IO.Directory.Exists(directory);
        try
        {
            PrepareDirectory(directory, osUser);
            var primary = await PostgresServer.InitPrimaryAsync(binaries, directory, "primary", options.Port, options.Durable, osUser, cancellationToken)
                .ConfigureAwait(false);
            var cluster = new LocalCluster(binaries, directory, primary, options.Durable, options.DeleteOnDispose);
            cluster.SaveState();
            for (var i = 0; i < options.Standbys; i++)
            {
                await cluster.AddStandbyAsync(cancellationToken).ConfigureAwait(false);
            }
            return cluster;
        }
        catch (Exception e) when (createdHere || e is not IOException)
        {
            // Leave a directory we did not create (and refused to use) alone.
            await StopAndDeleteAsync(binaries, directory, osUser).ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>Clones the primary into a new streaming standby and waits until it streams.</summary>
    public async Task<PostgresServer> AddStandbyAsync(CancellationToken cancellationToken = default)
    {
        var standby = await PostgresServer.CloneStandbyAsync(Primary, Directory, $"standby{_standbys.Count + 1}", _durable, cancellationToken)
            .ConfigureAwait(false);
        _standbys.Add(standby);
        SaveState();
        return standby;
    }

    /// <summary>Opens a cluster that another process started under <paramref name="directory"/>, or null if there is none.</summary>
    public static LocalCluster? Open(string directory)
    {
        var stateFile = Path.Combine(directory, StateFileName);
        if (!File.Exists(stateFile))
        {
            return null;
        }
        ClusterState state;
        try
        {
            state = JsonSerializer.Deserialize(File.ReadAllText(stateFile), ClusterStateJson.Default.ClusterState)
                ?? throw new JsonException("the file is empty");
        }
        catch (JsonException e)
        {
            throw new IOException($"{stateFile} is not a Concord cluster state file ({e.Message}); remove the directory or choose another.", e);
        }
        var binaries = new PostgresBinaries(state.BinDirectory, state.MajorVersion);
        PostgresServer Server(ServerState s) => new(binaries, s.Name, s.DataDirectory, s.Port, s.Role, state.OsUser);
        var primary = state.Servers.Single(s => s.Role == PostgresRole.Primary);
        var cluster = new LocalCluster(binaries, directory, Server(primary), state.Durable, deleteOnDispose: false);
        cluster._standbys.AddRange(state.Servers.Where(s => s.Role == PostgresRole.Standby).Select(Server));
        return cluster;
    }

    /// <summary>Stops every server (standbys first) and deletes the directory.</summary>
    public Task DestroyAsync() => StopAndDeleteAsync(_binaries, Directory, Primary.OsUser, [.. _standbys.AsEnumerable().Reverse(), Primary]);

    public async ValueTask DisposeAsync()
    {
        if (_deleteOnDispose)
        {
            await DestroyAsync().ConfigureAwait(false);
        }
    }

    void SaveState()
    {
        var state = new ClusterState(_binaries.BinDirectory, _binaries.MajorVersion, Primary.OsUser, _durable,
            [.. new[] { Primary }.Concat(_standbys).Select(s => new ServerState(s.Name, s.DataDirectory, s.Port, s.Role))]);
        File.WriteAllText(Path.Combine(Directory, StateFileName), JsonSerializer.Serialize(state, ClusterStateJson.Default.ClusterState));
    }

    static void PrepareDirectory(string directory, string? osUser)
    {
        if (System.IO.Directory.Exists(directory) && System.IO.Directory.EnumerateFileSystemEntries(directory).Any())
        {
            throw new IOException($"{directory} is not empty; a new cluster needs an empty or missing directory.");
        }
        System.IO.Directory.CreateDirectory(directory);
        if (osUser is not null)
        {
            // The server runs as the postgres OS user, so it must own the directory and reach it.
            ProcessRunner.RunCheckedAsync("chown", [$"{osUser}:", directory], TimeSpan.FromSeconds(30), null, CancellationToken.None)
                .GetAwaiter().GetResult();
            var reachable = ProcessRunner.Run("test", ["-w", directory, "-a", "-x", directory], TimeSpan.FromSeconds(30), osUser);
            if (reachable.ExitCode != 0)
            {
                throw new IOException(
                    $"The '{osUser}' OS user (PostgreSQL refuses to run as root) cannot enter {directory}: a parent directory is closed to it. " +
                    "Choose a directory under /tmp or /var/tmp.");
            }
        }
    }

    static async Task StopAndDeleteAsync(PostgresBinaries binaries, string directory, string? osUser, IReadOnlyList<PostgresServer>? servers = null)
    {
        servers ??= System.IO.Directory.Exists(directory)
            ? [.. System.IO.Directory.GetDirectories(directory).Select(d =>
                new PostgresServer(binaries, Path.GetFileName(d), d, 0, PostgresRole.Primary, osUser))]
            : [];
        List<Exception> errors = [];
        foreach (var server in servers)
        {
            var pid = server.PostmasterPid;
            try
            {
                await server.StopAsync(immediate: true).ConfigureAwait(false);
            }
            catch (Exception e) when (e is PostgresToolException or TimeoutException)
            {
                errors.Add(e);
            }
            // Last resort, so that no postmaster outlives its data directory: kill by the pid read
            // before stopping (postmaster.pid may be gone while the process still runs).
            if (pid is { } alive && PostgresServer.ProcessAlive(alive))
            {
                try
                {
                    using var process = System.Diagnostics.Process.GetProcessById(alive);
                    process.Kill(entireProcessTree: true);
                    await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(10)).ConfigureAwait(false);
                }
                catch (ArgumentException)
                {
                    // It exited meanwhile.
                }
            }
            if (pid is { } stillThere && PostgresServer.ProcessAlive(stillThere))
            {
                errors.Add(new IOException($"postmaster {stillThere} of {server.Name} is still running."));
            }
        }
        if (System.IO.Directory.Exists(directory))
        {
            System.IO.Directory.Delete(directory, recursive: true);
        }
        if (errors.Count > 0)
        {
            throw new AggregateException($"Stopping the cluster under {directory} did not go cleanly.", errors);
        }
    }
}

internal sealed record ServerState(string Name, string DataDirectory, int Port, PostgresRole Role);

internal sealed record ClusterState(string BinDirectory, int MajorVersion, string? OsUser, bool Durable, IReadOnlyList<ServerState> Servers);

[System.Text.Json.Serialization.JsonSourceGenerationOptions(WriteIndented = true, UseStringEnumConverter = true)]
[System.Text.Json.Serialization.JsonSerializable(typeof(ClusterState))]
internal sealed partial class ClusterStateJson : System.Text.Json.Serialization.JsonSerializerContext;
