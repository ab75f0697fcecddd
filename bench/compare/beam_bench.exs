# Reference workloads on the Erlang VM, for comparing bough against OTP itself on one machine.
# Run: elixir bench/compare/beam_bench.exs [N_SCALE]   (Elixir: apt-get install -y elixir)
# Workloads W1..W9 (functions below, in order); W8 and W9 use CALLERS (env, default 2) callers.
# Usage: elixir beam_bench.exs [SCALE] [WORKLOAD...] (no workload names: all of them). Each result is printed as: workload=<name> system=beam value=<number> unit=<unit>
defmodule Bench.Loader do
  # W1: a transient worker that finishes its work in handle_continue and stops normally.
  use GenServer, restart: :transient
  def start_link(counter), do: GenServer.start_link(__MODULE__, counter)
  @impl true
  def init(counter), do: {:ok, counter, {:continue, :work}}
  @impl true
  def handle_continue(:work, counter) do
    :counters.add(counter, 1, 1)
    {:stop, :normal, counter}
  end
end

defmodule Bench.Echo do
  use GenServer
  def start_link(opts), do: GenServer.start_link(__MODULE__, :ok, opts)
  @impl true
  def init(:ok), do: {:ok, 0}
  @impl true
  def handle_call(:ping, _from, s), do: {:reply, :pong, s}
  def handle_call(:crash, _from, _s), do: raise("crash on purpose")
end

defmodule Bench do
  def report(w, v, unit), do: IO.puts("workload=#{w} system=beam value=#{v} unit=#{unit}")

  def time_us(fun) do
    {us, _} = :timer.tc(fun)
    us
  end

  # W1: N dynamic start_child calls from 2 concurrent callers; done when all N workers ran and left.
  def dynamic_start_exit(n) do
    {:ok, sup} = DynamicSupervisor.start_link(strategy: :one_for_one)
    counter = :counters.new(1, [:atomics])
    us = time_us(fn ->
      tasks = for _ <- 1..2, do: Task.async(fn ->
        for _ <- 1..div(n, 2), do: {:ok, _} = DynamicSupervisor.start_child(sup, {Bench.Loader, counter})
      end)
      Enum.each(tasks, &Task.await(&1, :infinity))
      wait_until(fn -> :counters.get(counter, 1) == n and DynamicSupervisor.count_children(sup).active == 0 end)
    end)
    report("dynamic_start_exit", round(n / (us / 1.0e6)), "workers/s")
    DynamicSupervisor.stop(sup)
  end

  # W2: sequential calls from one client, then from 2 concurrent clients.
  def call_roundtrip(n) do
    {:ok, s} = Bench.Echo.start_link([])
    us = time_us(fn -> for _ <- 1..n, do: :pong = GenServer.call(s, :ping) end)
    report("call_roundtrip", Float.round(us * 1000 / n, 1), "ns/call")
    us2 = time_us(fn ->
      tasks = for _ <- 1..2, do: Task.async(fn -> for _ <- 1..div(n, 2), do: :pong = GenServer.call(s, :ping) end)
      Enum.each(tasks, &Task.await(&1, :infinity))
    end)
    report("call_throughput_2_clients", round(n / (us2 / 1.0e6)), "calls/s")
    GenServer.stop(s)
  end

  # W3: memory per idle supervised GenServer.
  def idle_memory(n) do
    {:ok, sup} = DynamicSupervisor.start_link(strategy: :one_for_one)
    :erlang.garbage_collect()
    before = :erlang.memory(:total)
    for _ <- 1..n, do: {:ok, _} = DynamicSupervisor.start_child(sup, Bench.Echo)
    :erlang.garbage_collect()
    after_ = :erlang.memory(:total)
    report("idle_memory", round((after_ - before) / n), "bytes/process")
    DynamicSupervisor.stop(sup)
  end

  # W4: a permanent worker crashes on a call; time until its replacement answers a call.
  def restart_latency(n) do
    children = [%{id: :echo, start: {Bench.Echo, :start_link, [[name: :bench_echo]]}}]
    {:ok, sup} = Supervisor.start_link(children, strategy: :one_for_one, max_restarts: n * 2, max_seconds: 1)
    samples = for _ <- 1..n do
      t0 = System.monotonic_time(:nanosecond)
      try do GenServer.call(:bench_echo, :crash) catch :exit, _ -> :ok end
      wait_until(fn -> try do GenServer.call(:bench_echo, :ping) == :pong catch :exit, _ -> false end end)
      System.monotonic_time(:nanosecond) - t0
    end
    report("restart_latency", Float.round(median(samples) / 1000, 1), "us")
    Supervisor.stop(sup)
  end

  # W5: rounds of 64 concurrent starts of one named child; exactly one wins, all see the same pid.
  def named_start_race(rounds) do
    {:ok, sup} = DynamicSupervisor.start_link(strategy: :one_for_one)
    us = time_us(fn ->
      for r <- 1..rounds do
        name = :"race_#{r}"
        results = 1..64
          |> Enum.map(fn _ -> Task.async(fn -> DynamicSupervisor.start_child(sup, {Bench.Echo, [name: name]}) end) end)
          |> Enum.map(&Task.await/1)
        {oks, others} = Enum.split_with(results, &match?({:ok, _}, &1))
        [{:ok, pid}] = oks
        true = Enum.all?(others, &(&1 == {:error, {:already_started, pid}}))
        :ok = DynamicSupervisor.terminate_child(sup, pid)
      end
    end)
    report("named_start_race", round(rounds / (us / 1.0e6)), "rounds/s")
    DynamicSupervisor.stop(sup)
  end

  # W6: a dynamic supervisor with N idle children is stopped; time until it and every child are gone.
  def tree_shutdown(n) do
    {:ok, sup} = DynamicSupervisor.start_link(strategy: :one_for_one)
    for _ <- 1..n, do: {:ok, _} = DynamicSupervisor.start_child(sup, Bench.Echo)
    Process.unlink(sup)
    us = time_us(fn -> :ok = DynamicSupervisor.stop(sup) end)
    report("tree_shutdown", round(n / (us / 1.0e6)), "children/s")
  end

  # W7: W1's start+exit rate while N idle children already live under the same supervisor
  # (a start must not cost more as the supervisor grows).
  def start_exit_with_live(live, n) do
    {:ok, sup} = DynamicSupervisor.start_link(strategy: :one_for_one)
    for _ <- 1..live, do: {:ok, _} = DynamicSupervisor.start_child(sup, Bench.Echo)
    counter = :counters.new(1, [:atomics])
    us = time_us(fn ->
      tasks = for _ <- 1..2, do: Task.async(fn ->
        for _ <- 1..div(n, 2), do: {:ok, _} = DynamicSupervisor.start_child(sup, {Bench.Loader, counter})
      end)
      Enum.each(tasks, &Task.await(&1, :infinity))
      wait_until(fn -> :counters.get(counter, 1) == n and DynamicSupervisor.count_children(sup).active == live end)
    end)
    report("start_exit_with_100k_live", round(n / (us / 1.0e6)), "workers/s")
    DynamicSupervisor.stop(sup)
  end

  defp callers, do: String.to_integer(System.get_env("CALLERS", "2"))

  # W8: W1 through a PartitionSupervisor of DynamicSupervisors (one partition per scheduler), with
  # CALLERS concurrent callers, each routing by its own key.
  def start_exit_partitioned(n) do
    c = callers()
    name = :"bench_partitions_#{System.unique_integer([:positive])}"
    {:ok, psup} = PartitionSupervisor.start_link(child_spec: DynamicSupervisor, name: name)
    counter = :counters.new(1, [:atomics])
    us = time_us(fn ->
      tasks = for k <- 1..c, do: Task.async(fn ->
        for _ <- 1..div(n, c), do: {:ok, _} = DynamicSupervisor.start_child({:via, PartitionSupervisor, {name, k}}, {Bench.Loader, counter})
      end)
      Enum.each(tasks, &Task.await(&1, :infinity))
      wait_until(fn -> :counters.get(counter, 1) == div(n, c) * c and
        Enum.all?(PartitionSupervisor.which_children(name), fn {_, p, _, _} -> DynamicSupervisor.count_children(p).active == 0 end) end)
    end)
    report("start_exit_partitioned", round(div(n, c) * c / (us / 1.0e6)), "workers/s")
    Supervisor.stop(psup)
  end

  # W9: CALLERS clients, each calling its own server.
  def parallel_calls(n) do
    c = callers()
    servers = for _ <- 1..c, do: elem(Bench.Echo.start_link([]), 1)
    us = time_us(fn ->
      tasks = for s <- servers, do: Task.async(fn -> for _ <- 1..div(n, c), do: :pong = GenServer.call(s, :ping) end)
      Enum.each(tasks, &Task.await(&1, :infinity))
    end)
    report("parallel_calls", round(div(n, c) * c / (us / 1.0e6)), "calls/s")
    Enum.each(servers, &GenServer.stop/1)
  end

  defp wait_until(f), do: (if f.(), do: :ok, else: (Process.sleep(0); wait_until(f)))
  defp median(xs), do: Enum.at(Enum.sort(xs), div(length(xs), 2))

  def main(scale, only) do
    Logger.configure(level: :none)
    all = [
      {"dynamic_start_exit", fn -> dynamic_start_exit(200_000 * scale) end},
      {"call_roundtrip", fn -> call_roundtrip(1_000_000 * scale) end},
      {"idle_memory", fn -> idle_memory(100_000 * scale) end},
      {"restart_latency", fn -> restart_latency(10_000 * scale) end},
      {"named_start_race", fn -> named_start_race(1_000 * scale) end},
      {"tree_shutdown", fn -> tree_shutdown(100_000 * scale) end},
      {"start_exit_with_100k_live", fn -> start_exit_with_live(100_000 * scale, 200_000 * scale) end},
      {"start_exit_partitioned", fn -> start_exit_partitioned(200_000 * scale) end},
      {"parallel_calls", fn -> parallel_calls(1_000_000 * scale) end}
    ]
    for {w, f} <- all, only == [] or w in only, do: f.()
  end
end

{scale, only} = case System.argv() do [s | ws] -> {String.to_integer(s), ws}; [] -> {1, []} end
Bench.main(scale, only)
