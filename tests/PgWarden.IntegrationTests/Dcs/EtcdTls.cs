using PgWarden.IntegrationTests.Infrastructure;

namespace PgWarden.IntegrationTests.Dcs;

/// <summary>Throwaway certificates for etcd TLS tests, made with openssl in a test's own directory.</summary>
internal static class EtcdTls
{
    public static void MakeCa(string dir, string name) =>
        OsUser.Run("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", $"/CN={name}",
            "-keyout", Path.Combine(dir, name + ".key"), "-out", Path.Combine(dir, name + ".crt"));

    /// <summary>A key and a certificate signed by ca, with one x509v3 extension line (subjectAltName=..., extendedKeyUsage=...).</summary>
    public static void MakeSigned(string dir, string name, string ca, string extension)
    {
        string P(string n) => Path.Combine(dir, n);
        OsUser.Run("openssl", "req", "-newkey", "rsa:2048", "-nodes", "-subj", $"/CN={name}", "-keyout", P(name + ".key"), "-out", P(name + ".csr"));
        File.WriteAllText(P(name + ".ext"), extension + "\n");
        OsUser.Run("openssl", "x509", "-req", "-in", P(name + ".csr"), "-CA", P(ca + ".crt"), "-CAkey", P(ca + ".key"),
            "-CAcreateserial", "-days", "2", "-extfile", P(name + ".ext"), "-out", P(name + ".crt"));
    }
}
