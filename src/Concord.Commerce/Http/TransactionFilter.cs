using System.Security.Cryptography;
using Concord.Postgres.Idempotency;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace Concord.Commerce.Http;

/// <summary>Endpoint metadata: POSTs that create orders, reserve stock or move money require an Idempotency-Key.</summary>
public sealed record RequiresIdempotencyKey;

/// <summary>
/// Runs an endpoint in its <see cref="RequestTransaction"/> and renders its response into a buffer
/// before committing, so that nothing is sent for work that did not commit. A success commits; an
/// error rolls back. With <see cref="RequiresIdempotencyKey"/>, the key is claimed first and the
/// rendered response is recorded in the same transaction as the effects (see
/// <see cref="IdempotencyKeys"/>); a replay sends the recorded bytes with Idempotent-Replayed: true.
/// </summary>
internal sealed class TransactionFilter : IEndpointFilter
{
    public const string KeyHeader = "Idempotency-Key";
    public const string ReplayedHeader = "Idempotent-Replayed";
    static readonly string[] StoredHeaders = ["Content-Type", "ETag", "Location"];

    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var http = context.HttpContext;
        var cancel = http.RequestAborted;
        var transaction = http.RequestServices.GetRequiredService<RequestTransaction>();
        var idempotent = http.GetEndpoint()?.Metadata.GetMetadata<RequiresIdempotencyKey>() is not null;

        IdempotencyKeys? keys = null;
        string scope = "", key = "";
        Guid claimToken = default;
        if (idempotent)
        {
            key = http.Request.Headers[KeyHeader].ToString();
            if (key.Length is 0 or > 255 || key.Any(char.IsControl))
            {
                return Problems.Result(StatusCodes.Status400BadRequest, Problems.IdempotencyKeyRequired, "Idempotency-Key required",
                    $"This request creates or moves something; send a unique {KeyHeader} header (1–255 printable characters) so it can be retried safely.");
            }
            var service = http.GetEndpoint()!.Metadata.GetMetadata<ServiceDatabase>()!.Service;
            keys = http.RequestServices.GetRequiredKeyedService<IdempotencyKeys>(service);
            scope = $"{http.Request.Method} {http.Request.Path}";
            switch (await keys.ClaimAsync(scope, key, await FingerprintAsync(http, cancel), cancel).ConfigureAwait(false))
            {
                case IdempotencyClaim.Replay replay:
                    return new ReplayResult(replay.Response);
                case IdempotencyClaim.Mismatch:
                    return Problems.Result(StatusCodes.Status422UnprocessableEntity, Problems.IdempotencyKeyReused, "Idempotency-Key reused",
                        $"{KeyHeader} '{key}' was first used with a different request; use a new key for a new request.");
                case IdempotencyClaim.InFlight:
                    http.Response.Headers.RetryAfter = "1";
                    return Problems.Result(StatusCodes.Status409Conflict, Problems.IdempotencyKeyInFlight, "Request in flight",
                        $"A request with {KeyHeader} '{key}' is still being processed; retry later to get its response.");
                case IdempotencyClaim.Started started:
                    claimToken = started.ClaimToken;
                    break;
            }
        }

        try
        {
            var result = await next(context).ConfigureAwait(false);
            var response = await RenderAsync(result, http).ConfigureAwait(false);
            if (response.Status >= 400)
            {
                await transaction.RollbackAsync().ConfigureAwait(false);
            }
            if (keys is not null && response.Status < 500)
            {
                // An error outcome is recorded too (in a transaction of its own), so a retry gets the same answer.
                await transaction.EnsureStartedAsync(cancel).ConfigureAwait(false);
                await keys.CompleteAsync(transaction.Connection, transaction.Transaction, scope, key, claimToken, response, cancel).ConfigureAwait(false);
            }
            await transaction.CommitAsync(cancel).ConfigureAwait(false);
            return new ReplayResult(response, replayed: false);
        }
        catch
        {
            await transaction.RollbackAsync().ConfigureAwait(false);
            if (keys is not null)
            {
                await keys.AbandonAsync(scope, key, claimToken, CancellationToken.None).ConfigureAwait(false);
            }
            throw;
        }
    }

    static async Task<byte[]> FingerprintAsync(HttpContext http, CancellationToken cancellationToken)
    {
        // The body was buffered (see CommerceHost) and already read by model binding: read it again.
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        hash.AppendData(System.Text.Encoding.UTF8.GetBytes($"{http.Request.Method} {http.Request.Path}{http.Request.QueryString}\n"));
        if (http.Request.Body.CanSeek)
        {
            http.Request.Body.Position = 0;
            var buffer = new byte[8192];
            int read;
            while ((read = await http.Request.Body.ReadAsync(buffer, cancellationToken).ConfigureAwait(false)) > 0)
            {
                hash.AppendData(buffer, 0, read);
            }
        }
        return hash.GetHashAndReset();
    }

    static async Task<StoredResponse> RenderAsync(object? result, HttpContext http)
    {
        var original = http.Response.Body;
        using var buffer = new MemoryStream();
        http.Response.Body = buffer;
        try
        {
            var rendered = result as IResult ?? (result is null ? Results.Empty : Results.Json(result));
            await rendered.ExecuteAsync(http).ConfigureAwait(false);
        }
        finally
        {
            http.Response.Body = original;
        }
        var headers = StoredHeaders
            .Where(h => http.Response.Headers.ContainsKey(h))
            .ToDictionary(h => h, h => http.Response.Headers[h].ToString());
        return new StoredResponse(http.Response.StatusCode, headers, buffer.ToArray());
    }

    /// <summary>Sends a rendered or recorded response as is.</summary>
    sealed class ReplayResult(StoredResponse response, bool replayed = true) : IResult
    {
        public async Task ExecuteAsync(HttpContext httpContext)
        {
            httpContext.Response.StatusCode = response.Status;
            foreach (var (name, value) in response.Headers)
            {
                httpContext.Response.Headers[name] = value;
            }
            if (replayed)
            {
                httpContext.Response.Headers[ReplayedHeader] = "true";
            }
            httpContext.Response.ContentLength = response.Body.Length;
            await httpContext.Response.Body.WriteAsync(response.Body).ConfigureAwait(false);
        }
    }
}
