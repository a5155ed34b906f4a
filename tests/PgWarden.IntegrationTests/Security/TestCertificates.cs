namespace PgWarden.IntegrationTests.Security;

/// <summary>CAs and certificates made with openssl in a scratch directory (removed on dispose).</summary>
public sealed class TestCertificates : IDisposable
{
    public string Dir { get; } = Path.Combine("/var/tmp/pgwarden-it", "certs-" + Guid.NewGuid().ToString("N")[..8]);

    public TestCertificates() => Directory.CreateDirectory(Dir);

    public string P(string name) => Path.Combine(Dir, name);

    public void MakeCa(string name) =>
        OsUser.Run("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", $"/CN={name}",
            "-keyout", P(name + ".key"), "-out", P(name + ".crt"));

    /// <summary>name.crt / name.key signed by ca; the key is encrypted with keyPassword when given.</summary>
    public void MakeSigned(string name, string ca, string extension, string? keyPassword = null)
    {
        OsUser.Run("openssl", "req", "-newkey", "rsa:2048", "-nodes", "-subj", $"/CN={name}", "-keyout", P(name + ".key"), "-out", P(name + ".csr"));
        File.WriteAllText(P(name + ".ext"), extension + "\n");
        OsUser.Run("openssl", "x509", "-req", "-in", P(name + ".csr"), "-CA", P(ca + ".crt"), "-CAkey", P(ca + ".key"),
            "-CAcreateserial", "-days", "2", "-extfile", P(name + ".ext"), "-out", P(name + ".crt"));
        if (keyPassword is not null)
        {
            OsUser.Run("openssl", "pkcs8", "-topk8", "-in", P(name + ".key"), "-out", P(name + ".enc.key"), "-passout", "pass:" + keyPassword);
            File.Move(P(name + ".enc.key"), P(name + ".key"), overwrite: true);
        }
        // Readable by the unprivileged node users that run agents in the cluster tests.
        foreach (var f in new[] { name + ".crt", name + ".key" }) File.SetUnixFileMode(P(f), (UnixFileMode)0b110_100_100);
    }

    public void Dispose()
    {
        try { Directory.Delete(Dir, recursive: true); } catch (IOException) { }
    }
}
