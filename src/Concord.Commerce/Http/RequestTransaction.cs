using System.Globalization;
using Concord.Core.Clocks;
using Concord.Postgres.Idempotency;
using Microsoft.AspNetCore.Http;
using Npgsql;

namespace Concord.Commerce.Http;

/// <summary>Endpoint metadata: which service's database the endpoint works in.</summary>
public sealed record ServiceDatabase(CommerceService Service);

/// <summary>The data source of each service's database (each service owns exactly one).</summary>
public sealed class CommerceDataSources(IReadOnlyDictionary<CommerceService, NpgsqlDataSource> sources) : IAsyncDisposable
{
    public NpgsqlDataSource this[CommerceService service] =>
        sources.TryGetValue(service, out var source) ? source : throw new InvalidOperationException($"No database is configured for {service}.");

    public async ValueTask DisposeAsync()
    {
        foreach (var source in sources.Values)
        {
            await source.DisposeAsync().ConfigureAwait(false);
        }
    }
}

/// <summary>
/// The one database transaction of an HTTP request, opened on first use in the endpoint's service
/// database. It stamps the transaction with the request's HLC timestamp and actor (read by the audit
/// trigger). <see cref="TransactionFilter"/> decides whether it commits: only when the response is a
/// success, so an error response never leaves half an effect behind.
/// </summary>
public sealed class RequestTransaction(CommerceDataSources dataSources, HybridLogicalClock clock, IHttpContextAccessor accessor) : IAsyncDisposable
{
    /// <summary>Request header naming who acts (a user or a service); recorded in the audit log.</summary>
    public const string ActorHeader = "Concord-Actor";

    NpgsqlConnection? _connection;
    NpgsqlTransaction? _transaction;

    internal NpgsqlConnection Connection => _connection ?? throw new InvalidOperationException("The transaction has not started.");

    internal NpgsqlTransaction Transaction => _transaction ?? throw new InvalidOperationException("The transaction has not started.");

    /// <summary>A command in the request's transaction, starting it if needed.</summary>
    public async Task<NpgsqlCommand> CommandAsync(string sql, CancellationToken cancellationToken)
    {
        await EnsureStartedAsync(cancellationToken).ConfigureAwait(false);
        return new NpgsqlCommand(sql, _connection, _transaction);
    }

    internal async Task EnsureStartedAsync(CancellationToken cancellationToken)
    {
        if (_transaction is not null)
        {
            return;
        }
        var stamp = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var batch = new NpgsqlBatch(_connection, _transaction) { BatchCommands = { stamp } };
        await batch.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Starts the transaction and claims an idempotency key in it, in one round trip: the stamp
    /// travels in the claim's batch.
    /// </summary>
    internal async Task<IdempotencyClaim> StartAndClaimAsync(IdempotencyKeys keys, string scope, string key, byte[] fingerprint,
        CancellationToken cancellationToken)
    {
        if (_transaction is not null)
        {
            throw new InvalidOperationException("The idempotency key must be claimed first thing in the request's transaction.");
        }
        var stamp = await OpenAsync(cancellationToken).ConfigureAwait(false);
        return await keys.ClaimAsync(_connection!, _transaction!, scope, key, fingerprint, stamp, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Opens the connection and the transaction (Npgsql sends BEGIN with the first statement); returns the stamp to send first.</summary>
    async Task<NpgsqlBatchCommand> OpenAsync(CancellationToken cancellationToken)
    {
        var http = accessor.HttpContext ?? throw new InvalidOperationException("No HTTP request is in progress.");
        var service = http.GetEndpoint()?.Metadata.GetMetadata<ServiceDatabase>()?.Service
            ?? throw new InvalidOperationException($"Endpoint {http.GetEndpoint()?.DisplayName} does not declare its service database.");
        _connection = await dataSources[service].OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        _transaction = await _connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        return StampCommand(clock, Actor(http));
    }

    /// <summary>Stamps a transaction with an HLC timestamp and an actor, which the audit triggers record with every change.</summary>
    internal static async Task StampAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, HybridLogicalClock clock, string actor,
        CancellationToken cancellationToken)
    {
        await using var batch = new NpgsqlBatch(connection, transaction) { BatchCommands = { StampCommand(clock, actor) } };
        await batch.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The statement <see cref="StampAsync"/> sends, to send in a batch of one's own.</summary>
    internal static NpgsqlBatchCommand StampCommand(HybridLogicalClock clock, string actor) =>
        new("SELECT set_config('concord.hlc', $1, true), set_config('concord.actor', $2, true)")
        {
            Parameters =
            {
                new() { Value = ((long)clock.Now().Pack()).ToString(CultureInfo.InvariantCulture) },
                new() { Value = actor },
            },
        };

    static string Actor(HttpContext http)
    {
        var actor = http.Request.Headers[ActorHeader].ToString();
        return actor.Length is > 0 and <= 100 && actor.All(c => !char.IsControl(c)) ? actor : "anonymous";
    }

    /// <summary>
    /// Commits. A <paramref name="last"/> statement (the idempotency key's record) travels with the
    /// COMMIT in one round trip: both commit, or, if either fails, neither does.
    /// </summary>
    internal async Task CommitAsync(NpgsqlBatchCommand? last, CancellationToken cancellationToken)
    {
        if (_transaction is null)
        {
            return;
        }
        if (last is null)
        {
            await _transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
        }
        else
        {
            // A COMMIT of our own in the batch; Npgsql sees the transaction end in the server's
            // ReadyForQuery status, so disposing the NpgsqlTransaction sends nothing more.
            await using var batch = new NpgsqlBatch(_connection, _transaction) { BatchCommands = { last, new("COMMIT") } };
            await batch.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }
        await CloseAsync().ConfigureAwait(false);
    }

    internal async Task RollbackAsync()
    {
        if (_transaction is not null)
        {
            try
            {
                await _transaction.RollbackAsync(CancellationToken.None).ConfigureAwait(false);
            }
            catch (Exception e) when (e is NpgsqlException or InvalidOperationException)
            {
                // A broken connection already rolled back on the server.
            }
            await CloseAsync().ConfigureAwait(false);
        }
    }

    async Task CloseAsync()
    {
        if (_transaction is not null)
        {
            await _transaction.DisposeAsync().ConfigureAwait(false);
            _transaction = null;
        }
        if (_connection is not null)
        {
            await _connection.DisposeAsync().ConfigureAwait(false);
            _connection = null;
        }
    }

    public async ValueTask DisposeAsync() => await RollbackAsync().ConfigureAwait(false);
}
