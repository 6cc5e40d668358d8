using System.Collections.Immutable;
using System.Text.Json.Nodes;
using Concord.Commerce.Sagas;
using Concord.Messaging.Sagas;
using Concord.Messaging.Sagas.Orders;

namespace Concord.Commerce.Tests.Sagas;

public sealed class SagaJsonTests
{
    [Fact]
    public void State_history_events_and_every_command_round_trip_even_with_type_discriminators_last()
    {
        // A saga that captured, then failed at the pivot: its history holds every kind of event and
        // effect and most commands; the rest are built directly.
        var definition = OrderSaga.Definition;
        var decision = OrderSaga.Start(SagaServer.NewOrder(), 1_000);
        var id = decision.State.SagaId;
        string Key(string step, SagaPhase phase) => SagaDefinition<OrderSagaData, OrderCommand>.IdempotencyKey(id, step, phase);
        SagaEvent[] events =
        [
            new StepReplied(Key(OrderSaga.PlaceOrderStep, SagaPhase.Action), ReplyOutcome.Succeeded),
            new StepReplied(Key(OrderSaga.ReserveStockStep, SagaPhase.Action), ReplyOutcome.Succeeded),
            new StepReplied(Key(OrderSaga.AuthorizePaymentStep, SagaPhase.Action), ReplyOutcome.Succeeded),
            new StepReplied(Key(OrderSaga.CapturePaymentStep, SagaPhase.Action), ReplyOutcome.TransientFailure, "busy"),
        ];
        foreach (var @event in events)
        {
            decision = definition.Handle(decision.State, @event, 2_000);
        }
        decision = definition.Handle(decision.State, new TimerFired(decision.State.ArmedTimer!), 3_000);
        decision = definition.Handle(decision.State, new StepReplied(Key(OrderSaga.CapturePaymentStep, SagaPhase.Action), ReplyOutcome.Succeeded), 3_500);
        decision = definition.Handle(decision.State, new StepReplied(Key(OrderSaga.ConfirmOrderStep, SagaPhase.Action), ReplyOutcome.Failed, "no"), 4_000);

        var json = SagaJson.Serialize(decision.State);
        var back = SagaJson.Deserialize<SagaState<OrderSagaData, OrderCommand>>(MoveTypesLast(json));
        Assert.Equal(json, SagaJson.Serialize(back));
        Assert.Equal(SagaStatus.Compensating, back.Status);

        var data = decision.State.Data;
        ImmutableArray<SagaEffect<OrderCommand>> commands =
        [
            .. new OrderCommand[]
            {
                new PlaceOrder(data.OrderId, "k", data.CustomerId, "EUR", data.Lines), new ReserveStock(data.OrderId, "k", data.Lines, 5),
                new AuthorizePayment(data.OrderId, "k", "a", "EUR", 1), new CapturePayment(data.OrderId, "k", "a", "EUR", 1),
                new ConfirmOrder(data.OrderId, "k"), new CommitStock(data.OrderId, "k", data.Lines), new CancelOrder(data.OrderId, "k"),
                new ReleaseStock(data.OrderId, "k", data.Lines), new VoidAuthorization(data.OrderId, "k", "a", "EUR", 1),
                new RefundPayment(data.OrderId, "k", "a", "EUR", 1),
            }.Select(c => (SagaEffect<OrderCommand>)new SendCommand<OrderCommand>(c, "s", SagaPhase.Action, 1, "k")),
        ];
        var effects = SagaJson.Serialize(commands);
        var effectsBack = SagaJson.Deserialize<ImmutableArray<SagaEffect<OrderCommand>>>(MoveTypesLast(effects));
        Assert.Equal(commands.Select(e => ((SendCommand<OrderCommand>)e).Command.GetType()),
            effectsBack.Select(e => ((SendCommand<OrderCommand>)e).Command.GetType()));
        Assert.Equal(effects, SagaJson.Serialize(effectsBack));
    }

    /// <summary>What jsonb may do to a document: "$type" after the other properties.</summary>
    static string MoveTypesLast(string json)
    {
        static JsonNode? Reorder(JsonNode? node)
        {
            switch (node)
            {
                case JsonObject obj:
                    var properties = obj.ToList();
                    obj.Clear();
                    foreach (var (name, value) in properties.OrderBy(p => p.Key == "$type"))
                    {
                        obj[name] = Reorder(value);
                    }
                    return obj;
                case JsonArray array:
                    var items = array.ToList();
                    array.Clear();
                    foreach (var item in items)
                    {
                        array.Add(Reorder(item));
                    }
                    return array;
                default:
                    return node;
            }
        }
        return Reorder(JsonNode.Parse(json))!.ToJsonString();
    }
}
