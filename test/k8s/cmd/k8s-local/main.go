// Command k8s-local is one binary holding every process of a local test cluster:
// etcd, kube-apiserver, kube-controller-manager, kube-scheduler, kwok, plus a
// certificate generator. Linking them together shares the large common
// dependency graph, so the build compiles and links it once.
package main

import (
	"fmt"
	"os"
	_ "time/tzdata" // CronJob time zones, as the upstream mains do

	"go.etcd.io/etcd/server/v3/etcdmain"
	"k8s.io/component-base/cli"
	_ "k8s.io/component-base/logs/json/register"
	_ "k8s.io/component-base/metrics/prometheus/clientgo"
	_ "k8s.io/component-base/metrics/prometheus/version"
	apiserver "k8s.io/kubernetes/cmd/kube-apiserver/app"
	controllermanager "k8s.io/kubernetes/cmd/kube-controller-manager/app"
	scheduler "k8s.io/kubernetes/cmd/kube-scheduler/app"
)

const usage = `usage: k8s-local COMMAND [flags]

commands:
  etcd                 run etcd (go.etcd.io/etcd/server/v3)
  apiserver            run kube-apiserver
  controller-manager   run kube-controller-manager
  scheduler            run kube-scheduler
  kwok                 run the kwok controller (fake nodes and pods)
  kwok-stages          print the kwok Stage configuration to pass to kwok --config
  certs --dir DIR --server URL [--cluster NAME]
                       write a CA, serving and client certificates, kubeconfigs
                       and a service-account key pair
  version              print the versions built in
`

func main() {
	if len(os.Args) < 2 {
		fmt.Fprint(os.Stderr, usage)
		os.Exit(2)
	}
	command, rest := os.Args[1], os.Args[2:]
	// Each upstream main reads os.Args itself; show it the argv it expects.
	os.Args = append([]string{command}, rest...)
	switch command {
	case "etcd":
		etcdmain.Main(os.Args)
	case "apiserver":
		os.Exit(cli.Run(apiserver.NewAPIServerCommand()))
	case "controller-manager":
		os.Exit(cli.Run(controllermanager.NewControllerManagerCommand()))
	case "scheduler":
		os.Exit(cli.Run(scheduler.NewSchedulerCommand()))
	case "kwok":
		os.Exit(runKwok())
	case "kwok-stages":
		os.Exit(printKwokStages())
	case "certs":
		os.Exit(runCerts(rest))
	case "version":
		printVersions()
	default:
		fmt.Fprintf(os.Stderr, "k8s-local: unknown command %q\n\n%s", command, usage)
		os.Exit(2)
	}
}
