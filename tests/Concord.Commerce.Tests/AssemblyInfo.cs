[assembly: AssemblyFixture(typeof(Concord.Testing.PostgresFixture))]
