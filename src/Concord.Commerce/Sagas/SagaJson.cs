using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;
using Concord.Messaging.Sagas;
using Concord.Messaging.Sagas.Orders;

namespace Concord.Commerce.Sagas;

/// <summary>
/// The saga store's JSON for the order saga: its state, events and effects, source-generated.
/// Concord.Messaging's events, effects and commands are abstract records without
/// <c>[JsonDerivedType]</c> (the pure core does not know how hosts store it), so the subtypes are
/// declared here by a contract modifier instead; the discriminators are part of the stored format,
/// so never rename one.
/// </summary>
internal static class SagaJson
{
    public static JsonSerializerOptions Options { get; } = new(SagaJsonContext.Default.Options)
    {
        TypeInfoResolver = SagaJsonContext.Default.WithAddedModifier(AddSubtypes).WithAddedModifier(DropComputed),
        // jsonb reorders keys, so "$type" may come back after the other properties.
        AllowOutOfOrderMetadataProperties = true,
    };

    public static JsonTypeInfo<T> Info<T>() => (JsonTypeInfo<T>)Options.GetTypeInfo(typeof(T));

    public static string Serialize<T>(T value) => JsonSerializer.Serialize(value, Info<T>());

    public static T Deserialize<T>(string json) =>
        JsonSerializer.Deserialize(json, Info<T>()) ?? throw new JsonException($"Stored {typeof(T).Name} is null.");

    /// <summary>Get-only properties (IsTerminal, TotalMinor) are derived from the rest; storing them would only invite disagreement.</summary>
    static void DropComputed(JsonTypeInfo info)
    {
        if (info.Kind != JsonTypeInfoKind.Object)
        {
            return;
        }
        for (var i = info.Properties.Count - 1; i >= 0; i--)
        {
            if (info.Properties[i] is { Set: null, AssociatedParameter: null })
            {
                info.Properties.RemoveAt(i);
            }
        }
    }

    static void AddSubtypes(JsonTypeInfo info)
    {
        (Type Type, string Name)[]? subtypes =
            info.Type == typeof(SagaEvent) ? [(typeof(SagaStarted), "started"), (typeof(StepReplied), "step-replied"), (typeof(TimerFired), "timer-fired")]
            : info.Type == typeof(SagaEffect<OrderCommand>) ? [(typeof(SendCommand<OrderCommand>), "send-command"), (typeof(ScheduleTimer<OrderCommand>), "schedule-timer")]
            : info.Type == typeof(OrderCommand) ?
            [
                (typeof(PlaceOrder), "place-order"), (typeof(ReserveStock), "reserve-stock"), (typeof(AuthorizePayment), "authorize-payment"),
                (typeof(CapturePayment), "capture-payment"), (typeof(ConfirmOrder), "confirm-order"), (typeof(CommitStock), "commit-stock"),
                (typeof(CancelOrder), "cancel-order"), (typeof(ReleaseStock), "release-stock"), (typeof(VoidAuthorization), "void-authorization"),
                (typeof(RefundPayment), "refund-payment"),
            ]
            : null;
        if (subtypes is null)
        {
            return;
        }
        info.PolymorphismOptions = new JsonPolymorphismOptions { TypeDiscriminatorPropertyName = "$type" };
        foreach (var (type, name) in subtypes)
        {
            info.PolymorphismOptions.DerivedTypes.Add(new JsonDerivedType(type, name));
        }
    }
}

[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    UseStringEnumConverter = true,
    RespectNullableAnnotations = true,
    AllowDuplicateProperties = false)]
[JsonSerializable(typeof(SagaState<OrderSagaData, OrderCommand>))]
[JsonSerializable(typeof(SagaEvent))]
[JsonSerializable(typeof(SagaStarted))]
[JsonSerializable(typeof(StepReplied))]
[JsonSerializable(typeof(TimerFired))]
[JsonSerializable(typeof(SagaEffect<OrderCommand>))]
[JsonSerializable(typeof(SendCommand<OrderCommand>))]
[JsonSerializable(typeof(ScheduleTimer<OrderCommand>))]
[JsonSerializable(typeof(System.Collections.Immutable.ImmutableArray<SagaEffect<OrderCommand>>))]
[JsonSerializable(typeof(OrderCommand))]
[JsonSerializable(typeof(PlaceOrder))]
[JsonSerializable(typeof(ReserveStock))]
[JsonSerializable(typeof(AuthorizePayment))]
[JsonSerializable(typeof(CapturePayment))]
[JsonSerializable(typeof(ConfirmOrder))]
[JsonSerializable(typeof(CommitStock))]
[JsonSerializable(typeof(CancelOrder))]
[JsonSerializable(typeof(ReleaseStock))]
[JsonSerializable(typeof(VoidAuthorization))]
[JsonSerializable(typeof(RefundPayment))]
internal sealed partial class SagaJsonContext : JsonSerializerContext;
