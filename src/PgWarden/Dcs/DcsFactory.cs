using Microsoft.Extensions.Logging;
using PgWarden.Config;
using PgWarden.Dcs.Etcd3;

namespace PgWarden.Dcs;

/// <summary>Builds the DCS client a configuration names (etcd3 today; the store is chosen by its section).</summary>
public static class DcsFactory
{
    public static IDcs ForAgent(AgentConfig config, DynamicConfig dynamic, TimeProvider time, ILoggerFactory loggers)
    {
        var client = Client(config, dynamic.RetryTimeout, time, loggers);
        var dcs = new Etcd3Dcs(client, config.Namespace, config.Scope, config.Name, time, loggers.CreateLogger("PgWarden.Dcs"));
        dcs.Configure(dynamic.Ttl, dynamic.LoopWait, dynamic.RetryTimeout);
        return dcs;
    }

    /// <summary>The control commands read linearizably, hold no lease and run no watch.</summary>
    public static IDcs ForCli(AgentConfig config, TimeProvider time, ILoggerFactory loggers) =>
        Etcd3Dcs.ForCli(Client(config, 10, time, loggers), config.Namespace, config.Scope, time, loggers.CreateLogger("PgWarden.Dcs"));

    private static Etcd3Client Client(AgentConfig config, int retryTimeout, TimeProvider time, ILoggerFactory loggers)
    {
        var etcd = config.Etcd3 ?? throw new ConfigException("etcd3", "etcd3: no DCS section is configured (expected an etcd3: section with hosts)");
        return new Etcd3Client(new Etcd3ClientOptions
        {
            Endpoints = etcd.Hosts.Select(h => h.Contains("://", StringComparison.Ordinal) ? h : $"{etcd.Protocol}://{h}").ToList(),
            Username = etcd.Username,
            Password = etcd.Password,
            RetryTimeout = TimeSpan.FromSeconds(retryTimeout),
            UserAgent = $"PgWarden/{AgentVersion.Current}",
            CaCertFile = etcd.CaCert,
            CertFile = etcd.Cert,
            KeyFile = etcd.Key,
        }, time, loggers.CreateLogger("PgWarden.Dcs.Etcd3"));
    }
}
