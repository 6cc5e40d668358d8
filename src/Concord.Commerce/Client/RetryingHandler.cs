using System.Net;
using Polly;
using Polly.Retry;

namespace Concord.Commerce.Client;

/// <summary>
/// Retries with jittered exponential backoff, but only requests that are safe to repeat: GET and
/// HEAD, PUT and DELETE conditional on If-Match, and POSTs that carry an Idempotency-Key (the
/// server replays the first response). Anything else is sent exactly once: retrying a plain POST
/// after a timeout is how money moves twice.
/// </summary>
public sealed class RetryingHandler : DelegatingHandler
{
    public const int AttemptsMax = 5;

    readonly ResiliencePipeline<HttpResponseMessage> _pipeline;

    public RetryingHandler(HttpMessageHandler inner, TimeProvider? time = null, TimeSpan? baseDelay = null) : base(inner)
    {
        _pipeline = new ResiliencePipelineBuilder<HttpResponseMessage> { TimeProvider = time ?? TimeProvider.System }
            .AddRetry(new RetryStrategyOptions<HttpResponseMessage>
            {
                MaxRetryAttempts = AttemptsMax - 1,
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                Delay = baseDelay ?? TimeSpan.FromMilliseconds(100),
                ShouldHandle = new PredicateBuilder<HttpResponseMessage>()
                    .Handle<HttpRequestException>()
                    .HandleResult(IsTransient),
                // A server that says when to come back (Retry-After on 409 in flight, 503) is believed.
                DelayGenerator = args => new ValueTask<TimeSpan?>(
                    args.Outcome.Result?.Headers.RetryAfter?.Delta is { } delta && delta <= TimeSpan.FromSeconds(30) ? delta : null),
                OnRetry = args =>
                {
                    args.Outcome.Result?.Dispose(); // the response being retried is never read
                    return default;
                },
            })
            .Build();
    }

    /// <summary>Whether a request may be sent again without risk of a second effect.</summary>
    public static bool IsRetrySafe(HttpRequestMessage request) =>
        request.Method == HttpMethod.Get || request.Method == HttpMethod.Head ||
        ((request.Method == HttpMethod.Put || request.Method == HttpMethod.Delete) && request.Headers.IfMatch.Count > 0) ||
        (request.Method == HttpMethod.Post && request.Headers.Contains("Idempotency-Key"));

    static bool IsTransient(HttpResponseMessage response) =>
        response.StatusCode is HttpStatusCode.ServiceUnavailable or HttpStatusCode.BadGateway or HttpStatusCode.GatewayTimeout
            or HttpStatusCode.InternalServerError ||
        // The first request with this key is still running: its response will be replayed shortly.
        (response.StatusCode == HttpStatusCode.Conflict && response.Headers.RetryAfter is not null);

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        if (!IsRetrySafe(request))
        {
            return await base.SendAsync(request, cancellationToken).ConfigureAwait(false);
        }
        // The content is sent again on each attempt; buffer it once.
        if (request.Content is not null)
        {
            await request.Content.LoadIntoBufferAsync(cancellationToken).ConfigureAwait(false);
        }
        return await _pipeline.ExecuteAsync(
            static async (state, token) => await state.Handler.BaseSendAsync(state.Request, token).ConfigureAwait(false),
            (Handler: this, Request: request),
            cancellationToken).ConfigureAwait(false);
    }

    Task<HttpResponseMessage> BaseSendAsync(HttpRequestMessage request, CancellationToken cancellationToken) =>
        base.SendAsync(request, cancellationToken);
}
