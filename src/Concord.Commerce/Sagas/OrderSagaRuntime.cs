using System.Globalization;
using Concord.Core.Clocks;
using Concord.Messaging.Envelopes;
using Concord.Messaging.Sagas;
using Concord.Messaging.Sagas.Orders;
using Concord.Commerce.Sagas.Commands;
using Concord.Postgres.Messaging;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;

namespace Concord.Commerce.Sagas;

public sealed record SagaStoreOptions
{
    /// <summary>The order saga's timings; tests and the lab shrink them.</summary>
    public OrderSagaTimings Timings { get; init; } = new();

    /// <summary>How often the deadline service looks for due timers.</summary>
    public TimeSpan PollInterval { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>Due sagas handled per deadline round (one transaction).</summary>
    public int BatchSizeMax { get; init; } = 100;

    /// <summary>
    /// A live saga whose deadline passed more than this long ago is stuck: the deadline service
    /// should have moved it within one poll, so it is down, failing, or the saga cannot progress.
    /// </summary>
    public TimeSpan StuckGrace { get; init; } = TimeSpan.FromMinutes(1);

    public void Validate()
    {
        if (PollInterval <= TimeSpan.Zero || StuckGrace < TimeSpan.Zero || BatchSizeMax is < 1 or > 10_000)
        {
            throw new ArgumentException("PollInterval must be positive, StuckGrace not negative and BatchSizeMax within [1, 10000].");
        }
    }
}

/// <summary>A saga's state as stored (history lives in saga_transitions, not here) and the version it was read at.</summary>
public sealed record SagaSnapshot(SagaState<OrderSagaData, OrderCommand> State, long Version, DateTimeOffset? NextDeadlineAt);

/// <summary>Another transaction committed a transition of this saga first; reload and decide again.</summary>
public sealed class SagaConcurrencyException(string sagaId, long version)
    : Exception($"Saga {sagaId} moved past version {version} while this transition was decided; it was not applied.");

/// <summary>
/// The host side of the order saga (etcd-raft style: the pure <see cref="SagaDefinition{TData,TCommand}"/>
/// decides, this class persists and sends). Every transition commits in one Orders-database
/// transaction: the new state over the version it was decided from, the transition as history, and
/// the commands as outbox rows, so a command goes out if and only if the state that sent it
/// committed ("persist before send" without a window between the two).
/// </summary>
public sealed class OrderSagaRuntime
{
    public const string SagaType = "order-saga";
    const int ConflictRetries = 8;

    readonly NpgsqlDataSource _orders;
    readonly TimeProvider _time;
    readonly HybridLogicalClock _clock;
    readonly SagaDefinition<OrderSagaData, OrderCommand> _definition;
    readonly MessageCodec _codec = SagaWire.CreateCodec();
    readonly string[] _stepNames;
    readonly ILogger _log;

    public OrderSagaRuntime(NpgsqlDataSource orders, SagaStoreOptions options, TimeProvider time, HybridLogicalClock clock, ILogger<OrderSagaRuntime>? log = null)
    {
        _log = (ILogger?)log ?? NullLogger.Instance;
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _orders = orders;
        _time = time;
        _clock = clock;
        Options = options;
        _definition = OrderSaga.Create(options.Timings);
        _stepNames = [.. _definition.Steps.Select(step => step.Name)];
    }

    public SagaStoreOptions Options { get; }

    long NowMs => _time.GetUtcNow().ToUnixTimeMilliseconds();

    /// <summary>
    /// Starts the saga of <paramref name="data"/>'s order and queues its first command. Idempotent:
    /// starting an order's saga again returns the existing one unchanged.
    /// </summary>
    public async Task<SagaSnapshot> StartAsync(OrderSagaData data, CancellationToken cancellationToken)
    {
        await using var connection = await _orders.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        if (await StartAsync(connection, transaction, data, cancellationToken).ConfigureAwait(false) is { } started)
        {
            await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
            return started;
        }
        await transaction.RollbackAsync(cancellationToken).ConfigureAwait(false);
        return await LoadAsync(OrderSaga.SagaId(data.OrderId), cancellationToken).ConfigureAwait(false)
            ?? throw new InvalidOperationException($"Saga {OrderSaga.SagaId(data.OrderId)} exists but could not be read.");
    }

    /// <summary>
    /// Starts the saga in the caller's Orders-database transaction (e.g. an HTTP request's, so the
    /// request's idempotency record and the saga commit together). Null if the saga already exists.
    /// </summary>
    internal async Task<SagaSnapshot?> StartAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, OrderSagaData data, CancellationToken cancellationToken)
    {
        var decision = OrderSaga.Start(data, NowMs, _definition);
        var state = decision.State;
        await using (var insert = new NpgsqlCommand("""
            INSERT INTO saga_instances (saga_id, saga_type, status, state, version, next_deadline_at, started_at, updated_at)
            VALUES (@id, @type, @status, @state::jsonb, 1, @deadline, @at, @at)
            ON CONFLICT (saga_id) DO NOTHING
            """, connection, transaction))
        {
            insert.Parameters.AddWithValue("id", state.SagaId);
            insert.Parameters.AddWithValue("type", SagaType);
            insert.Parameters.AddWithValue("status", StatusName(state.Status));
            insert.Parameters.AddWithValue("state", SagaJson.Serialize(state with { History = [] }));
            insert.Parameters.AddWithValue("deadline", (object?)Deadline(decision, null) ?? DBNull.Value);
            insert.Parameters.AddWithValue("at", At(state.LastEventAtMs));
            if (await insert.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false) == 0)
            {
                return null;
            }
        }
        await AppendTransitionAsync(connection, transaction, decision, 1, cancellationToken).ConfigureAwait(false);
        return new SagaSnapshot(state with { History = [] }, 1, Deadline(decision, null));
    }

    /// <summary>
    /// Consumes a batch of replies from the saga's queue in one Orders-database transaction: records
    /// the messages in the inbox and applies the replies, so a redelivered reply is skipped and a
    /// crash in between leaves neither. The sagas' rows are locked in saga-id order (every batch takes
    /// them in that order, so two batches never deadlock), and replies and timers of one saga take
    /// turns. A reply for an unknown saga is recorded and dropped. Throws if any reply cannot be
    /// applied: nothing commits, and the queue retries the messages one at a time.
    /// </summary>
    public async Task HandleRepliesAsync(IReadOnlyList<OutboxMessage> messages, CancellationToken cancellationToken)
    {
        var replies = messages.Select(message =>
        {
            var decoded = _codec.Decode(message.Payload);
            var reply = decoded.Body as SagaReply
                ?? throw new InvalidOperationException($"Message {message.Id} of type {message.Type} is not a saga reply.");
            return (Message: message, SagaId: decoded.Envelope.CorrelationId, Event: reply.ToEvent());
        }).OrderBy(r => r.SagaId, StringComparer.Ordinal).ToList();
        await using var connection = await _orders.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        var fresh = await Inbox.TryRecordManyAsync(connection, transaction, SagaType, [.. replies.Select(r => r.Message.Id)], cancellationToken).ConfigureAwait(false);
        replies = [.. replies.Where(r => fresh.Contains(r.Message.Id))];
        var moved = new List<(SagaSnapshot Before, SagaEvent Event, SagaSnapshot After)>();
        if (replies.Count > 0)
        {
            await Http.RequestTransaction.StampAsync(connection, transaction, _clock, SagaType, cancellationToken).ConfigureAwait(false);
            var sagas = new Dictionary<string, SagaSnapshot>(StringComparer.Ordinal);
            await using (var select = new NpgsqlCommand(
                "SELECT state::text, version, next_deadline_at, saga_id FROM saga_instances WHERE saga_id = ANY(@ids) ORDER BY saga_id FOR UPDATE",
                connection, transaction))
            {
                select.Parameters.AddWithValue("ids", replies.Select(r => r.SagaId).Distinct().ToArray());
                await using var reader = await select.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
                while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                {
                    sagas[reader.GetString(3)] = Read(reader);
                }
            }
            foreach (var (message, sagaId, @event) in replies)
            {
                if (!sagas.TryGetValue(sagaId, out var snapshot))
                {
                    _log.LogWarning("Reply {MessageId} is for saga {SagaId}, which does not exist; dropped.", message.Id, sagaId);
                    continue;
                }
                var after = await ApplyAsync(connection, transaction, snapshot, @event, cancellationToken).ConfigureAwait(false);
                sagas[sagaId] = after;
                moved.Add((snapshot, @event, after));
            }
        }
        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
        foreach (var (before, @event, after) in moved.Where(m => m.After.Version != m.Before.Version))
        {
            SagaMetrics.Record(SagaType, before.State, @event, after.State);
        }
    }

    /// <summary>
    /// Feeds <paramref name="event"/> (a reply, or a timer) to the saga. Reads without a lock and
    /// commits over the version read; on losing a race it reads again and redecides, so concurrent
    /// replies serialize without holding a row lock while deciding. Returns null for an unknown saga.
    /// An event the pure machine ignores (a duplicate reply, a stale timer) commits nothing: a
    /// redelivery is not progress, and at-least-once delivery must not grow the history.
    /// </summary>
    public async Task<SagaSnapshot?> HandleAsync(string sagaId, SagaEvent @event, CancellationToken cancellationToken)
    {
        for (var attempt = 1; ; attempt++)
        {
            var snapshot = await LoadAsync(sagaId, cancellationToken).ConfigureAwait(false);
            if (snapshot is null)
            {
                return null;
            }
            try
            {
                return await TryApplyAsync(snapshot, @event, cancellationToken).ConfigureAwait(false);
            }
            catch (SagaConcurrencyException) when (attempt < ConflictRetries)
            {
                // Someone else moved the saga; decide again on what they committed.
            }
        }
    }

    /// <summary>The stored state of <paramref name="sagaId"/>, or null.</summary>
    public async Task<SagaSnapshot?> LoadAsync(string sagaId, CancellationToken cancellationToken)
    {
        await using var connection = await _orders.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var select = new NpgsqlCommand(
            "SELECT state::text, version, next_deadline_at FROM saga_instances WHERE saga_id = @id", connection);
        select.Parameters.AddWithValue("id", sagaId);
        await using var reader = await select.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        return await reader.ReadAsync(cancellationToken).ConfigureAwait(false) ? Read(reader) : null;
    }

    /// <summary>
    /// Decides on <paramref name="snapshot"/> and commits over its version, or throws
    /// <see cref="SagaConcurrencyException"/> if another transition committed first.
    /// </summary>
    internal async Task<SagaSnapshot> TryApplyAsync(SagaSnapshot snapshot, SagaEvent @event, CancellationToken cancellationToken)
    {
        await using var connection = await _orders.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        var result = await ApplyAsync(connection, transaction, snapshot, @event, cancellationToken).ConfigureAwait(false);
        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
        if (result.Version != snapshot.Version)
        {
            SagaMetrics.Record(SagaType, snapshot.State, @event, result.State);
        }
        return result;
    }

    /// <summary>
    /// One round of the deadline timer: claims live sagas whose deadline has passed with
    /// <c>FOR UPDATE SKIP LOCKED</c> (so several hosts share the work and never fire one saga twice)
    /// and feeds each its armed timer. Returns how many moved (a due saga that does not move stays
    /// due, and is listed as stuck once past the grace).
    /// </summary>
    public async Task<int> FireDueTimersAsync(CancellationToken cancellationToken)
    {
        await using var connection = await _orders.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        var due = new List<(string SagaId, string State, long Version, DateTimeOffset Deadline)>();
        await using (var select = new NpgsqlCommand("""
            SELECT saga_id, state::text, version, next_deadline_at FROM saga_instances
             WHERE next_deadline_at <= @now
             ORDER BY next_deadline_at
             LIMIT @batch
               FOR UPDATE SKIP LOCKED
            """, connection, transaction))
        {
            select.Parameters.AddWithValue("now", _time.GetUtcNow());
            select.Parameters.AddWithValue("batch", Options.BatchSizeMax);
            await using var reader = await select.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                due.Add((reader.GetString(0), reader.GetString(1), reader.GetInt64(2), reader.GetFieldValue<DateTimeOffset>(3)));
            }
        }
        var moved = new List<(SagaSnapshot Before, SagaEvent Event, SagaSnapshot After)>();
        foreach (var (sagaId, json, version, deadline) in due)
        {
            // One saga that cannot be read or moved (a bug, a hand-edited row) must not hold back the
            // others: each gets a savepoint, and a failed one stays due, so it is listed as stuck.
            await transaction.SaveAsync("saga", cancellationToken).ConfigureAwait(false);
            try
            {
                var snapshot = new SagaSnapshot(SagaJson.Deserialize<SagaState<OrderSagaData, OrderCommand>>(json), version, deadline);
                // A live saga always has its timer armed (the core's invariant); the deadline column is that timer's due time.
                var fired = new TimerFired(snapshot.State.ArmedTimer ?? throw new InvalidOperationException("The saga is due but has no timer armed."));
                var after = await ApplyAsync(connection, transaction, snapshot, fired, cancellationToken).ConfigureAwait(false);
                moved.Add((snapshot, fired, after));
            }
            catch (Exception e) when (e is not OperationCanceledException && (e is PostgresException || e is not NpgsqlException))
            {
                await transaction.RollbackAsync("saga", cancellationToken).ConfigureAwait(false);
                _log.LogError(e, "Saga {SagaId} is due but its timer could not be fired; it stays due.", sagaId);
            }
        }
        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
        var progressed = moved.Where(m => m.After.Version != m.Before.Version).ToList();
        foreach (var (before, fired, after) in progressed)
        {
            SagaMetrics.Record(SagaType, before.State, fired, after.State);
        }
        return progressed.Count;
    }

    async Task<SagaSnapshot> ApplyAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, SagaSnapshot snapshot, SagaEvent @event,
        CancellationToken cancellationToken)
    {
        var before = snapshot.State;
        var decision = _definition.Handle(before, @event, NowMs);
        var after = decision.State with { History = [] };
        if (decision.Effects.IsEmpty && SameProgress(before, after))
        {
            return snapshot;
        }
        var version = snapshot.Version + 1;
        var deadline = Deadline(decision, snapshot.NextDeadlineAt);
        await using (var update = new NpgsqlCommand("""
            UPDATE saga_instances
               SET status = @status, state = @state::jsonb, version = @version, next_deadline_at = @deadline, updated_at = @at
             WHERE saga_id = @id AND version = @expected
            """, connection, transaction))
        {
            update.Parameters.AddWithValue("id", before.SagaId);
            update.Parameters.AddWithValue("status", StatusName(after.Status));
            update.Parameters.AddWithValue("state", SagaJson.Serialize(after));
            update.Parameters.AddWithValue("version", version);
            update.Parameters.AddWithValue("expected", snapshot.Version);
            update.Parameters.AddWithValue("deadline", (object?)deadline ?? DBNull.Value);
            update.Parameters.AddWithValue("at", At(after.LastEventAtMs));
            if (await update.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false) == 0)
            {
                throw new SagaConcurrencyException(before.SagaId, snapshot.Version);
            }
        }
        await Orders.OrdersSagaCommands.ProjectProgressAsync(connection, transaction, before, after, _stepNames, cancellationToken).ConfigureAwait(false);
        await AppendTransitionAsync(connection, transaction, decision, version, cancellationToken).ConfigureAwait(false);
        return new SagaSnapshot(after, version, deadline);
    }

    /// <summary>The transition as history, and its commands as outbox rows, in the caller's transaction.</summary>
    async Task AppendTransitionAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, SagaDecision<OrderSagaData, OrderCommand> decision,
        long sequence, CancellationToken cancellationToken)
    {
        var transition = decision.State.History[^1];
        await using (var insert = new NpgsqlCommand("""
            INSERT INTO saga_transitions (saga_id, sequence, from_state, event, to_state, effects, note, at)
            VALUES (@id, @sequence, @from, @event::jsonb, @to, @effects::jsonb, @note, @at)
            """, connection, transaction))
        {
            insert.Parameters.AddWithValue("id", decision.State.SagaId);
            insert.Parameters.AddWithValue("sequence", sequence);
            insert.Parameters.AddWithValue("from", transition.From);
            insert.Parameters.AddWithValue("event", SagaJson.Serialize(transition.Event));
            insert.Parameters.AddWithValue("to", transition.To);
            insert.Parameters.AddWithValue("effects", SagaJson.Serialize(transition.Effects));
            insert.Parameters.AddWithValue("note", transition.Note);
            insert.Parameters.AddWithValue("at", At(transition.AtMs));
            await insert.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }
        await Outbox.AppendManyAsync(connection, transaction,
            [.. decision.Effects.OfType<SendCommand<OrderCommand>>().Select(send => ToOutbox(decision.State.SagaId, send))], cancellationToken).ConfigureAwait(false);
    }

    OutboxMessage ToOutbox(string sagaId, SendCommand<OrderCommand> send)
    {
        var (type, version) = _codec.NameOf(send.Command.GetType());
        // Unique per attempt (the outbox dedupes on it), while the idempotency key inside stays the
        // same across attempts so the receiving service applies the command once.
        var id = send.IdempotencyKey + ":" + send.Attempt.ToString(CultureInfo.InvariantCulture);
        var envelope = new Envelope
        {
            Id = id,
            Type = type,
            SchemaVersion = version,
            // One key per saga: its commands are delivered in the order it sent them.
            PartitionKey = sagaId,
            CorrelationId = sagaId,
            Timestamp = _clock.Now(),
            Headers = System.Collections.Immutable.ImmutableSortedDictionary.CreateRange(StringComparer.Ordinal,
            [
                new KeyValuePair<string, string>("attempt", send.Attempt.ToString(CultureInfo.InvariantCulture)),
                new KeyValuePair<string, string>("idempotency-key", send.IdempotencyKey),
            ]),
        };
        return new OutboxMessage(id, type, sagaId, _codec.Encode(new Message(envelope, send.Command)));
    }

    static SagaSnapshot Read(NpgsqlDataReader reader) => new(
        SagaJson.Deserialize<SagaState<OrderSagaData, OrderCommand>>(reader.GetString(0)),
        reader.GetInt64(1),
        reader.IsDBNull(2) ? null : reader.GetFieldValue<DateTimeOffset>(2));

    /// <summary>
    /// True when an event changed nothing but the clock and the history: the pure core's "ignored"
    /// outcome (it still records the event, which this store deliberately does not persist).
    /// </summary>
    static bool SameProgress(SagaState<OrderSagaData, OrderCommand> a, SagaState<OrderSagaData, OrderCommand> b) =>
        a.Status == b.Status && a.Cursor == b.Cursor && a.Attempt == b.Attempt && a.StepStartedAtMs == b.StepStartedAtMs &&
        a.AppliedSteps == b.AppliedSteps && a.ArmedTimer == b.ArmedTimer && a.FailureReason == b.FailureReason &&
        a.Outcomes.SequenceEqual(b.Outcomes);

    /// <summary>The armed timer's due time: a newly scheduled one, else the one already stored; none once terminal.</summary>
    static DateTimeOffset? Deadline(SagaDecision<OrderSagaData, OrderCommand> decision, DateTimeOffset? stored) =>
        decision.State.IsTerminal ? null
        : decision.Effects.OfType<ScheduleTimer<OrderCommand>>().LastOrDefault() is { } timer ? At(timer.DueAtMs)
        : stored;

    static DateTimeOffset At(long ms) => DateTimeOffset.FromUnixTimeMilliseconds(ms);

    internal static string StatusName(SagaStatus status) => status switch
    {
        SagaStatus.Running => "running",
        SagaStatus.Compensating => "compensating",
        SagaStatus.Completed => "completed",
        SagaStatus.Compensated => "compensated",
        _ => throw new ArgumentOutOfRangeException(nameof(status), status, "Unknown saga status."),
    };
}
