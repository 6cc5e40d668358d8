using System.CommandLine;
using Concord.Commerce;
using Concord.Commerce.Http;
using Concord.Postgres.Local;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Hosting;
using Npgsql;

namespace Concord.Cli.Commands;

/// <summary><c>concord serve</c>: the four commerce services over HTTP, on a given server or a throwaway local cluster.</summary>
internal static class ServeCommand
{
    public static Command Build(TextWriter output)
    {
        var pg = AdminServer.Option("a throwaway local cluster is started and deleted on exit");
        var urls = new Option<string>("--urls")
        {
            Description = "Where to listen (loopback by default)",
            DefaultValueFactory = _ => "http://127.0.0.1:5080",
        };
        urls.Validators.Add(result =>
        {
            var value = result.GetValueOrDefault<string>();
            if (!Uri.TryCreate(value, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https"))
            {
                result.AddError($"--urls must be an http(s) URL such as http://127.0.0.1:5080, not '{value}'.");
            }
        });
        var command = new Command("serve", "Run the Orders, Payments, Inventory and Catalog services over HTTP until Ctrl+C") { pg, urls };
        command.SetAction((parse, ct) => RunAsync(output, parse.GetValue(pg), parse.GetValue(urls)!, ct));
        return command;
    }

    static async Task<int> RunAsync(TextWriter output, string? pg, string urls, CancellationToken ct)
    {
        LocalCluster? cluster = null;
        try
        {
            if (pg is null)
            {
                await output.WriteLineAsync("Starting a throwaway PostgreSQL cluster (pass --pg to use your own server)…");
                cluster = await LocalCluster.StartAsync(new LocalClusterOptions(), ct);
                pg = cluster.Primary.ConnectionString();
            }
            else
            {
                pg = AdminServer.Parse(pg);
            }

            var password = AdminServer.AppPassword();
            var connections = new Dictionary<CommerceService, string>();
            foreach (var service in Enum.GetValues<CommerceService>())
            {
                var database = $"concord_{service.ToString().ToLowerInvariant()}";
                connections[service] = await CommerceDatabases.ProvisionAsync(pg, database, service, password, ct);
                await output.WriteLineAsync($"{service,-9} database {database} ready (migrations applied)");
            }

            var bus = await CommerceDatabases.ProvisionBusAsync(pg, "concord_bus", password, ct);
            await output.WriteLineAsync("Bus       database concord_bus ready (the saga's queues)");

            // Fail now, not on the first request, if the application role cannot log in (an existing
            // role with another password, say).
            await using (var probe = new NpgsqlConnection(connections[CommerceService.Orders]))
            {
                await probe.OpenAsync(ct);
            }
            await output.WriteLineAsync(cluster is null ? $"Using {new NpgsqlConnectionStringBuilder(pg).Host}" : $"Throwaway cluster under {cluster.Directory}");

            await using var app = CommerceHost.Build(new CommerceHostOptions
            {
                ConnectionStrings = connections,
                Urls = urls,
                Sagas = new Concord.Commerce.Sagas.SagaStoreOptions(),
                SagaMessaging = new Concord.Commerce.Sagas.SagaMessagingOptions { BusConnectionString = bus },
            });
            try
            {
                await app.StartAsync(ct);
            }
            catch (IOException e) when (e.InnerException is Microsoft.AspNetCore.Connections.AddressInUseException)
            {
                throw new UsageException($"Cannot listen on {urls}: the address is in use. Choose another with --urls (port 0 picks a free one).");
            }
            var listening = app.Urls.First();
            await output.WriteLineAsync($"Listening on {listening}");
            await output.WriteLineAsync($"  OpenAPI:   {listening}/openapi/v1.json");
            await output.WriteLineAsync($"  metrics:   {listening}/metrics (Prometheus text format)");
            foreach (var prefix in new[] { "orders", "payments", "inventory", "catalog", "sagas" })
            {
                await output.WriteLineAsync($"  {prefix,-10} {listening}/{prefix}");
            }
            await output.WriteLineAsync("Press Ctrl+C to stop.");
            // Ends on Ctrl+C or SIGTERM (whichever of the command line and the host's lifetime sees it first).
            await app.WaitForShutdownAsync(ct).ContinueWith(_ => { }, CancellationToken.None, TaskContinuationOptions.None, TaskScheduler.Default);
            await app.StopAsync(CancellationToken.None);
            return ExitCodes.Success;
        }
        catch (NpgsqlException e) when (AdminServer.IsUnusable(e))
        {
            throw AdminServer.Unusable(e, external: cluster is null);
        }
        finally
        {
            if (cluster is not null)
            {
                NpgsqlConnection.ClearAllPools();
                await cluster.DisposeAsync();
            }
        }
    }
}
