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
/// error rolls back. With <see cref="RequiresIdempotencyKey"/>, the key is claimed in the same
/// transaction before the endpoint runs, and a successful response is recorded with the effects (see
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
        var idempotent = http.GetEndpoint()?.Metadata.GetMetadata<RequiresIdempotencyKey>() is not null &&
            http.RequestServices.GetRequiredService<CommerceHostOptions>().IdempotencyKeysEnabled;

        IdempotencyKeys? keys = null;
        string scope = "", key = "";
        byte[] fingerprint = [];
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
            fingerprint = await FingerprintAsync(http, cancel).ConfigureAwait(false);
            var earlier = await transaction.StartAndClaimAsync(keys, scope, key, fingerprint, cancel).ConfigureAwait(false);
            if (earlier is not IdempotencyClaim.Started)
            {
                await transaction.RollbackAsync().ConfigureAwait(false);
                return earlier switch
                {
                    IdempotencyClaim.Replay replay => new BufferedResponse(replay.Response, replayed: true),
                    IdempotencyClaim.Mismatch => Problems.Result(StatusCodes.Status422UnprocessableEntity, Problems.IdempotencyKeyReused,
                        "Idempotency-Key reused", $"{KeyHeader} '{key}' was first used with a different request; use a new key for a new request."),
                    _ => InFlight(http, key),
                };
            }
        }

        try
        {
            var result = await next(context).ConfigureAwait(false);
            var response = await RenderAsync(result, http).ConfigureAwait(false);
            if (response.Status >= 400)
            {
                // Refused: nothing commits, and nothing is stored under the key (see IdempotencyKeys).
                await transaction.RollbackAsync().ConfigureAwait(false);
                return new BufferedResponse(response, replayed: false);
            }
            await transaction.CommitAsync(keys?.CompletionCommand(scope, key, fingerprint, response), cancel).ConfigureAwait(false);
            return new BufferedResponse(response, replayed: false);
        }
        catch
        {
            await transaction.RollbackAsync().ConfigureAwait(false);
            throw;
        }
    }

    static IResult InFlight(HttpContext http, string key)
    {
        http.Response.Headers.RetryAfter = "1";
        return Problems.Result(StatusCodes.Status409Conflict, Problems.IdempotencyKeyInFlight, "Request in flight",
            $"A request with {KeyHeader} '{key}' is still being processed; retry later to get its response.");
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

    /// <summary>Sends a rendered or recorded response as is; a recorded one is marked Idempotent-Replayed.</summary>
    sealed class BufferedResponse(StoredResponse response, bool replayed) : IResult
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
