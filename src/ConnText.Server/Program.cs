using ConnText.Server.Hosting;

// Before anything rents from the shared byte-array pool, which reads its size once (ADR 0024).
SharedBufferPool.Configure();
return await ServerCommand.RunAsync(args);
