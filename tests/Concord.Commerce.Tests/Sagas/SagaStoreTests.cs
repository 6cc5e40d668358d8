using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Net;
using System.Text.Json;
using Concord.Commerce.Sagas;
using Concord.Messaging.Sagas;
using Concord.Messaging.Sagas.Orders;
using Concord.Testing;

namespace Concord.Commerce.Tests.Sagas;

public sealed class SagaStoreTests(PostgresFixture fixture)
{
    static CancellationToken Cancel => TestContext.Current.CancellationToken;

    static SagaEvent Ok(string sagaId, string step) => new StepReplied(SagaDefinition<OrderSagaData, OrderCommand>.IdempotencyKey(sagaId, step, SagaPhase.Action), ReplyOutcome.Succeeded);

    static string[] Types(IEnumerable<Concord.Messaging.Envelopes.Message> messages) => [.. messages.Select(m => m.Envelope.Type)];

    [Fact]
    public async Task Start_persists_the_state_and_queues_the_first_command_in_the_same_transaction()
    {
        await using var server = await SagaServer.StartAsync(fixture, new SagaStoreOptions());
        var data = SagaServer.NewOrder();

        var started = await server.Runtime.StartAsync(data, Cancel);

        Assert.Equal(1, started.Version);
        var stored = await server.Runtime.LoadAsync(started.State.SagaId, Cancel);
        Assert.NotNull(stored);
        Assert.Equal(SagaStatus.Running, stored.State.Status);
        Assert.Equal(data.OrderId, stored.State.Data.OrderId);
        Assert.Equal(data.Lines, stored.State.Data.Lines);
        Assert.Equal(started.State.ArmedTimer, stored.State.ArmedTimer);
        Assert.Equal(SagaServer.Epoch.AddSeconds(2), stored.NextDeadlineAt);
        var outbox = await server.OutboxAsync(started.State.SagaId);
        var place = Assert.IsType<PlaceOrder>(Assert.Single(outbox).Body);
        Assert.Equal(started.State.SagaId + ":place-order:do", place.IdempotencyKey);
        Assert.Equal("1", outbox[0].Envelope.Headers["attempt"]);
        Assert.Equal(started.State.SagaId, outbox[0].Envelope.CorrelationId);

        // Starting the same order again is a no-op: same saga, no second command.
        var again = await server.Runtime.StartAsync(data, Cancel);
        Assert.Equal(1, again.Version);
        Assert.Single(await server.OutboxAsync(started.State.SagaId));
        Assert.Equal(1, await server.TransitionsAsync(started.State.SagaId));
    }

    [Fact]
    public async Task Replies_move_the_saga_to_completion_and_a_duplicate_reply_changes_nothing()
    {
        await using var server = await SagaServer.StartAsync(fixture, new SagaStoreOptions());
        var id = (await server.Runtime.StartAsync(SagaServer.NewOrder(), Cancel)).State.SagaId;

        var moved = await server.Runtime.HandleAsync(id, Ok(id, OrderSaga.PlaceOrderStep), Cancel);
        Assert.Equal(2, moved!.Version);
        Assert.Equal(["order-saga.place-order", "order-saga.reserve-stock"], Types(await server.OutboxAsync(id)));

        var duplicate = await server.Runtime.HandleAsync(id, Ok(id, OrderSaga.PlaceOrderStep), Cancel);
        Assert.Equal(2, duplicate!.Version);
        Assert.Equal(2, await server.TransitionsAsync(id));
        Assert.Equal(2, (await server.OutboxAsync(id)).Count);

        foreach (var step in new[] { OrderSaga.ReserveStockStep, OrderSaga.AuthorizePaymentStep, OrderSaga.CapturePaymentStep, OrderSaga.ConfirmOrderStep, OrderSaga.CommitStockStep })
        {
            await server.Runtime.HandleAsync(id, Ok(id, step), Cancel);
        }
        var done = await server.Runtime.LoadAsync(id, Cancel);
        Assert.Equal(SagaStatus.Completed, done!.State.Status);
        Assert.Null(done.NextDeadlineAt);
        Assert.Equal(7, done.Version);
        Assert.Equal(6, (await server.OutboxAsync(id)).Count);
        Assert.Null(await server.Runtime.HandleAsync("order-unknown", Ok("order-unknown", OrderSaga.PlaceOrderStep), Cancel));
    }

    [Fact]
    public async Task A_passed_deadline_fires_through_the_background_service_and_compensation_commands_reach_the_outbox()
    {
        var options = new SagaStoreOptions
        {
            Timings = new OrderSagaTimings { AttemptTimeoutMs = 1_000, StepDeadlineMs = 5_000, AttemptsMax = 1 },
            PollInterval = TimeSpan.FromMilliseconds(500),
        };
        await using var server = await SagaServer.StartAsync(fixture, options);
        using var metrics = new SagaMeasurements();
        var id = (await server.Runtime.StartAsync(SagaServer.NewOrder(), Cancel)).State.SagaId;
        await server.Runtime.HandleAsync(id, Ok(id, OrderSaga.PlaceOrderStep), Cancel);
        await server.Runtime.HandleAsync(id, Ok(id, OrderSaga.ReserveStockStep), Cancel);
        // Payments never answers the authorization; its single attempt times out after 1 s.

        var deadline = DateTime.UtcNow.AddSeconds(20);
        SagaSnapshot? saga;
        do
        {
            server.Time.Advance(TimeSpan.FromMilliseconds(500));
            await Task.Delay(50, Cancel);
            saga = await server.Runtime.LoadAsync(id, Cancel);
        }
        while (saga!.State.Status == SagaStatus.Running && DateTime.UtcNow < deadline);

        Assert.Equal(SagaStatus.Compensating, saga.State.Status);
        Assert.Equal(
            ["order-saga.place-order", "order-saga.reserve-stock", "order-saga.authorize-payment", "order-saga.void-authorization"],
            Types(await server.OutboxAsync(id)));
        Assert.Equal(1, await server.CountAsync(
            "SELECT count(*) FROM saga_transitions WHERE saga_id = @id AND event->>'$type' = 'timer-fired'", id));
        // Other tests run beside this one and share the static meter, so count at least, not exactly.
        Assert.True(metrics.Sum("concord.saga.timeouts") >= 1);
        Assert.True(metrics.Sum("concord.saga.compensations") >= 1);

        // The compensations answer; the saga ends compensated and its duration is recorded.
        foreach (var step in new[] { OrderSaga.AuthorizePaymentStep, OrderSaga.ReserveStockStep, OrderSaga.PlaceOrderStep })
        {
            var key = SagaDefinition<OrderSagaData, OrderCommand>.IdempotencyKey(id, step, SagaPhase.Compensation);
            await server.Runtime.HandleAsync(id, new StepReplied(key, ReplyOutcome.Succeeded), Cancel);
        }
        var compensated = await server.Runtime.LoadAsync(id, Cancel);
        Assert.Equal(SagaStatus.Compensated, compensated!.State.Status);
        Assert.Null(compensated.NextDeadlineAt);
        Assert.Equal(
            ["order-saga.place-order", "order-saga.reserve-stock", "order-saga.authorize-payment", "order-saga.void-authorization",
             "order-saga.release-stock", "order-saga.cancel-order"],
            Types(await server.OutboxAsync(id)));
        Assert.Contains(metrics.Durations, d => d.Outcome == "compensated" && d.Seconds > 0);
    }

    [Fact]
    public async Task Two_concurrent_handlers_of_one_saga_cannot_both_commit_a_transition()
    {
        await using var server = await SagaServer.StartAsync(fixture, new SagaStoreOptions());
        var id = (await server.Runtime.StartAsync(SagaServer.NewOrder(), Cancel)).State.SagaId;
        var snapshot = (await server.Runtime.LoadAsync(id, Cancel))!;

        var results = await Task.WhenAll(Enumerable.Range(0, 2).Select(async _ =>
        {
            try
            {
                await server.Runtime.TryApplyAsync(snapshot, Ok(id, OrderSaga.PlaceOrderStep), Cancel);
                return true;
            }
            catch (SagaConcurrencyException)
            {
                return false;
            }
        }));

        Assert.Single(results, committed => committed);
        Assert.Equal(2, await server.TransitionsAsync(id));
        Assert.Equal(["order-saga.place-order", "order-saga.reserve-stock"], Types(await server.OutboxAsync(id)));

        // The retrying entry point serializes racing replies instead: both land, in some order.
        await Task.WhenAll(
            server.Runtime.HandleAsync(id, Ok(id, OrderSaga.ReserveStockStep), Cancel),
            server.Runtime.HandleAsync(id, Ok(id, OrderSaga.ReserveStockStep), Cancel));
        Assert.Equal(3, (await server.Runtime.LoadAsync(id, Cancel))!.Version);
    }

    [Fact]
    public async Task Get_shows_state_and_history_404s_on_unknown_and_lists_stuck_sagas()
    {
        // The deadline service ticks hourly here, so nothing moves the sagas while time passes.
        await using var server = await SagaServer.StartAsync(fixture, new SagaStoreOptions { PollInterval = TimeSpan.FromHours(1) });
        var stalled = (await server.Runtime.StartAsync(SagaServer.NewOrder(), Cancel)).State.SagaId;
        await server.Runtime.HandleAsync(stalled, Ok(stalled, OrderSaga.PlaceOrderStep), Cancel);

        using (var response = await server.Client.GetAsync($"/sagas/{stalled}", Cancel))
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync(Cancel));
            var root = body.RootElement;
            Assert.Equal("running", root.GetProperty("status").GetString());
            Assert.Equal(2, root.GetProperty("version").GetInt64());
            Assert.Equal("Running", root.GetProperty("state").GetProperty("status").GetString());
            Assert.False(root.GetProperty("state").TryGetProperty("isTerminal", out _));
            var history = root.GetProperty("history");
            Assert.Equal(2, history.GetArrayLength());
            Assert.Equal("started", history[0].GetProperty("event").GetProperty("$type").GetString());
            Assert.Equal("step-replied", history[1].GetProperty("event").GetProperty("$type").GetString());
            Assert.Equal("send-command", history[1].GetProperty("effects")[0].GetProperty("$type").GetString());
        }

        using (var missing = await server.Client.GetAsync("/sagas/order-nope", Cancel))
        {
            Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
            Assert.Equal("application/problem+json", missing.Content.Headers.ContentType?.MediaType);
            using var problem = JsonDocument.Parse(await missing.Content.ReadAsStringAsync(Cancel));
            Assert.Equal("/problems/not-found", problem.RootElement.GetProperty("type").GetString());
        }

        // A completed saga is never stuck; a live one is once its deadline is older than the grace (1 min).
        var done = (await server.Runtime.StartAsync(SagaServer.NewOrder(), Cancel)).State.SagaId;
        foreach (var step in new[] { OrderSaga.PlaceOrderStep, OrderSaga.ReserveStockStep, OrderSaga.AuthorizePaymentStep, OrderSaga.CapturePaymentStep, OrderSaga.ConfirmOrderStep, OrderSaga.CommitStockStep })
        {
            await server.Runtime.HandleAsync(done, Ok(done, step), Cancel);
        }
        Assert.Empty(await StuckAsync(server));
        server.Time.Advance(TimeSpan.FromMinutes(2));
        var fresh = (await server.Runtime.StartAsync(SagaServer.NewOrder(), Cancel)).State.SagaId;

        Assert.Equal([stalled], await StuckAsync(server));
        using var all = await server.Client.GetAsync("/sagas", Cancel);
        using var list = JsonDocument.Parse(await all.Content.ReadAsStringAsync(Cancel));
        Assert.Equal(3, list.RootElement.GetArrayLength());
        Assert.Equal(fresh, list.RootElement[0].GetProperty("id").GetString());

        using var badQuery = await server.Client.GetAsync("/sagas?stuck=maybe", Cancel);
        Assert.Equal(HttpStatusCode.BadRequest, badQuery.StatusCode);
        var openApi = await server.Client.GetStringAsync("/openapi/v1.json", Cancel);
        Assert.Contains("/sagas/{id}", openApi, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_saga_that_cannot_be_fired_stays_due_and_stuck_without_holding_back_the_others()
    {
        await using var server = await SagaServer.StartAsync(fixture, new SagaStoreOptions { PollInterval = TimeSpan.FromHours(1) });
        var broken = (await server.Runtime.StartAsync(SagaServer.NewOrder(), Cancel)).State.SagaId;
        var healthy = (await server.Runtime.StartAsync(SagaServer.NewOrder(), Cancel)).State.SagaId;
        await server.Orders.ExecuteAsAdmin($"UPDATE saga_instances SET state = '{{\"bogus\": 1}}' WHERE saga_id = '{broken}'");
        server.Time.Advance(TimeSpan.FromMinutes(2));

        Assert.Equal(1, await server.Runtime.FireDueTimersAsync(Cancel));

        Assert.Equal(2, (await server.Runtime.LoadAsync(healthy, Cancel))!.Version);
        Assert.Equal(1, await server.TransitionsAsync(broken));
        Assert.Equal([broken], await StuckAsync(server));
    }

    /// <summary>Collects what the Concord.Sagas meter reports while alive.</summary>
    sealed class SagaMeasurements : IDisposable
    {
        readonly MeterListener _listener = new();
        readonly ConcurrentDictionary<string, long> _sums = new();

        public SagaMeasurements()
        {
            _listener.InstrumentPublished = (instrument, listener) =>
            {
                if (instrument.Meter.Name == SagaMetrics.MeterName)
                {
                    listener.EnableMeasurementEvents(instrument);
                }
            };
            _listener.SetMeasurementEventCallback<long>((instrument, value, _, _) => _sums.AddOrUpdate(instrument.Name, value, (_, sum) => sum + value));
            _listener.SetMeasurementEventCallback<double>((instrument, value, tags, _) =>
            {
                string? outcome = null;
                foreach (var tag in tags)
                {
                    if (tag.Key == "saga.outcome")
                    {
                        outcome = tag.Value as string;
                    }
                }
                Durations.Add((outcome, value));
            });
            _listener.Start();
        }

        public ConcurrentBag<(string? Outcome, double Seconds)> Durations { get; } = [];

        public long Sum(string instrument) => _sums.GetValueOrDefault(instrument);

        public void Dispose() => _listener.Dispose();
    }

    static async Task<string[]> StuckAsync(SagaServer server)
    {
        using var response = await server.Client.GetAsync("/sagas?stuck=true", Cancel);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync(Cancel));
        return [.. body.RootElement.EnumerateArray().Select(s => s.GetProperty("id").GetString()!)];
    }
}
