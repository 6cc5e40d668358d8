using System.Text.Json.Serialization;
using Concord.Messaging.Envelopes;
using Concord.Messaging.Sagas;
using Concord.Messaging.Sagas.Orders;

namespace Concord.Commerce.Sagas.Commands;

/// <summary>
/// A service's answer to one saga command, as it travels back to the saga (type
/// <c>order-saga.step-replied</c>, version 1): the command's idempotency key, the outcome and, for a
/// refusal, why. The saga runtime hands it to the pure core as <see cref="StepReplied"/>.
/// </summary>
public sealed record SagaReply(string IdempotencyKey, ReplyOutcome Outcome, string? Reason)
{
    public const string MessageType = "order-saga.step-replied";

    public StepReplied ToEvent() => new(IdempotencyKey, Outcome, Reason);
}

/// <summary>What a service decided for one command; a refusal is final for its key, so only these two are ever recorded.</summary>
public sealed record SagaCommandResult(bool Succeeded, string? Reason)
{
    public static SagaCommandResult Ok { get; } = new(true, null);

    public static SagaCommandResult Refused(string reason) => new(false, reason);
}

/// <summary>The order saga's wire vocabulary: its commands and the reply.</summary>
public static class SagaWire
{
    /// <summary>A codec that knows the order saga's commands and <see cref="SagaReply"/>.</summary>
    public static MessageCodec CreateCodec() =>
        OrderSagaMessages.Register(new MessageCodec()).Register(SagaReply.MessageType, 1, SagaReplyJsonContext.Default.SagaReply);

    /// <summary>The queue each saga message goes to: a command to the service that executes it, a reply to the saga.</summary>
    public static IReadOnlyList<string> Route(string messageType) => messageType switch
    {
        SagaReply.MessageType => [Queues.Sagas],
        "order-saga.place-order" or "order-saga.confirm-order" or "order-saga.cancel-order" => [Queues.Orders],
        "order-saga.reserve-stock" or "order-saga.release-stock" or "order-saga.commit-stock" => [Queues.Inventory],
        "order-saga.authorize-payment" or "order-saga.capture-payment" or "order-saga.void-authorization" or "order-saga.refund-payment" => [Queues.Payments],
        _ => throw new InvalidOperationException($"No queue takes messages of type '{messageType}'."),
    };

    public static class Queues
    {
        public const string Orders = "orders";
        public const string Inventory = "inventory";
        public const string Payments = "payments";
        public const string Sagas = "order-saga";
    }
}

[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    UseStringEnumConverter = true,
    UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
    RespectRequiredConstructorParameters = true,
    RespectNullableAnnotations = true,
    AllowDuplicateProperties = false)]
[JsonSerializable(typeof(SagaReply))]
internal sealed partial class SagaReplyJsonContext : JsonSerializerContext;
