using System.Net;
using Polly;
using Polly.Retry;

namespace Concord.Commerce.Client;

/// <summary>
/// Retries with jittered exponential backoff, but only requests that are safe to repeat: GET and
/// HEAD, PUT and DELETE conditional on If-Match, and POSTs that carry an Idempotency-Key (the
/// server replays the first response). Anything else is sent exactly once: retrying a plain POST
/// after a timeout is how money moves twice.
/// <para>Two budgets: a failure (5xx, a broken connection) is tried at most <see cref="AttemptsMax"/>
/// times; a 409 saying the first request with the same key is still running is waited out for up to
/// <see cref="InFlightWaitMax"/>, however slow that first request is, because giving up there
/// would turn a request that is about to succeed into an error.</para>
/// </summary>
public sealed class RetryingHandler : DelegatingHandler
{
    public const int AttemptsMax = 5;
    public static readonly TimeSpan InFlightWaitMax = TimeSpan.FromSeconds(30);

    static readonly ResiliencePropertyKey<long> StartedAt = new("concord.retry.started-at");

    readonly ResiliencePipeline<HttpResponseMessage> _pipeline;
    readonly TimeProvider _time;

    public RetryingHandler(HttpMessageHandler inner, TimeProvider? time = null, TimeSpan? baseDelay = null) : base(inner)
    {
        _time = time ?? TimeProvider.System;
        _pipeline = new ResiliencePipelineBuilder<HttpResponseMessage> { TimeProvider = _time }
            .AddRetry(new RetryStrategyOptions<HttpResponseMessage>
            {
                MaxRetryAttempts = int.MaxValue, // bounded by ShouldRetry
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                Delay = baseDelay ?? TimeSpan.FromMilliseconds(100),
                ShouldHandle = args => new ValueTask<bool>(ShouldRetry(args.Outcome, args.AttemptNumber, args.Context)),
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

    bool ShouldRetry(Outcome<HttpResponseMessage> outcome, int attemptNumber, ResilienceContext context)
    {
        if (outcome.Result is { StatusCode: HttpStatusCode.Conflict, Headers.RetryAfter: not null })
        {
            // The first request with this key is still running: its response will be replayed.
            return _time.GetElapsedTime(context.Properties.GetValue(StartedAt, 0L)) < InFlightWaitMax;
        }
        var failed = outcome.Exception is HttpRequestException ||
            outcome.Result?.StatusCode is HttpStatusCode.ServiceUnavailable or HttpStatusCode.BadGateway or HttpStatusCode.GatewayTimeout
                or HttpStatusCode.InternalServerError;
        return failed && attemptNumber + 1 < AttemptsMax; // attemptNumber counts from 0
    }

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
        var context = ResilienceContextPool.Shared.Get(cancellationToken);
        context.Properties.Set(StartedAt, _time.GetTimestamp());
        try
        {
            return await _pipeline.ExecuteAsync(
                static async (context, state) => await state.Handler.BaseSendAsync(state.Request, context.CancellationToken).ConfigureAwait(false),
                context,
                (Handler: this, Request: request)).ConfigureAwait(false);
        }
        finally
        {
            ResilienceContextPool.Shared.Return(context);
        }
    }

    Task<HttpResponseMessage> BaseSendAsync(HttpRequestMessage request, CancellationToken cancellationToken) =>
        base.SendAsync(request, cancellationToken);
}
