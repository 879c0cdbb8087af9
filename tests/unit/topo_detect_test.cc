// Detection: a fake sysfs tree (PCIe switches, NUMA nodes, an RDMA NIC and its netdev) turns
// into the expected graph, and detection on this machine yields a valid topology that
// round-trips through a topology file.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>

#include "topology/detect.h"
#include "topology/detect_internal.h"
#include "topology/paths.h"
#include "topology/topo_file.h"

namespace tutti {
namespace {

class FakeSysfs {
 public:
  FakeSysfs() {
    char dir[] = "/tmp/tutti-sysfs-XXXXXX";
    root_ = mkdtemp(dir);
  }
  ~FakeSysfs() {
    if (!root_.empty()) {
      EXPECT_EQ(system(("rm -rf " + root_).c_str()), 0);
    }
  }
  const std::string& root() const { return root_; }
  void mkdirs(const std::string& rel) {
    std::string path = root_;
    size_t start = 0;
    while (start < rel.size()) {
      size_t slash = rel.find('/', start);
      path +=
          "/" + rel.substr(start, slash == std::string::npos ? std::string::npos : slash - start);
      mkdir(path.c_str(), 0755);
      if (slash == std::string::npos) break;
      start = slash + 1;
    }
  }
  void file(const std::string& rel, const std::string& text) {
    mkdirs(rel.substr(0, rel.rfind('/')));
    std::ofstream(root_ + "/" + rel) << text << "\n";
  }
  void link(const std::string& target, const std::string& rel) {
    mkdirs(rel.substr(0, rel.rfind('/')));
    EXPECT_EQ(symlink((root_ + "/" + target).c_str(), (root_ + "/" + rel).c_str()), 0);
  }
  // A PCI device at `path` (under devices/) with its link and NUMA node.
  void device(const std::string& path, const std::string& speed, int width, int numa) {
    const std::string id = path.substr(path.rfind('/') + 1);
    mkdirs("devices/" + path);
    file("devices/" + path + "/current_link_speed", speed);
    file("devices/" + path + "/current_link_width", std::to_string(width));
    file("devices/" + path + "/numa_node", std::to_string(numa));
    link("devices/" + path, "bus/pci/devices/" + id);
  }

 private:
  std::string root_;
};

TEST(Detect, PciSwitchesFromSysfs) {
  FakeSysfs fs;
  fs.device("pci0000:00/0000:00:01.0", "32.0 GT/s PCIe", 16, 0);
  fs.device("pci0000:00/0000:00:01.0/0000:01:00.0", "32.0 GT/s PCIe", 16, 0);
  fs.device("pci0000:00/0000:00:01.0/0000:01:00.0/0000:02:00.0", "32.0 GT/s PCIe", 16, 0);
  fs.device("pci0000:00/0000:00:01.0/0000:01:00.0/0000:02:01.0", "32.0 GT/s PCIe", 16, 0);
  fs.device("pci0000:00/0000:00:01.0/0000:01:00.0/0000:02:00.0/0000:03:00.0", "32.0 GT/s PCIe", 16,
            0);
  fs.device("pci0000:00/0000:00:01.0/0000:01:00.0/0000:02:01.0/0000:04:00.0", "16.0 GT/s PCIe", 8,
            0);
  fs.device("pci0000:80/0000:80:01.0", "16.0 GT/s PCIe", 16, 1);
  fs.device("pci0000:80/0000:80:01.0/0000:81:00.0", "16.0 GT/s PCIe", 16, 1);
  Topology t;
  TopoNode cpu0, cpu1;
  cpu0.type = cpu1.type = NodeType::kCpu;
  cpu0.id = "cpu0";
  cpu0.numa = 0;
  cpu1.id = "cpu1";
  cpu1.numa = 1;
  t.addNode(cpu0);
  t.addNode(cpu1);
  TopoLink smp;
  smp.a = 0;
  smp.b = 1;
  smp.type = LinkType::kSmp;
  t.addLink(smp);
  TopoNode g;
  g.type = NodeType::kGpu;
  g.id = "gpu0";
  g.dev = 0;
  const int a = t.addNode(g);
  g.id = "gpu1";
  g.dev = 1;
  const int b = t.addNode(g);
  g.id = "gpu2";
  g.dev = 2;
  const int c = t.addNode(g);
  PciTreeBuilder pci(fs.root(), &t);
  ASSERT_TRUE(pci.attach(a, "0000:03:00.0"));
  ASSERT_TRUE(pci.attach(b, "0000:04:00.0"));
  ASSERT_TRUE(pci.attach(c, "0000:81:00.0"));
  EXPECT_FALSE(pci.attach(c, "0000:99:00.0"));
  ASSERT_EQ(t.finalize(), tuttiSuccess) << lastError();
  int switches = 0;
  for (const TopoNode& n : t.nodes) switches += n.type == NodeType::kPciSwitch;
  EXPECT_EQ(switches, 1) << "upstream and downstream ports form one switch";
  const int sw = t.find(0, "pcisw_0000:01:00.0");
  ASSERT_GE(sw, 0);
  EXPECT_EQ(pathBetween(t, 0, 1), PathType::kPix);
  EXPECT_EQ(pathBetween(t, 0, 2), PathType::kSys);
  EXPECT_NEAR(gpuPath(t, 0, 1).bw, pcieBandwidth(4, 8), 1e-9);
  for (const TopoLink& l : t.links)
    if (l.a == sw && t.nodes[l.b].type == NodeType::kCpu) FAIL() << "link direction";
  bool sawUplink = false;
  for (const TopoLink& l : t.links)
    if ((l.a == sw || l.b == sw) &&
        (t.nodes[l.a].type == NodeType::kCpu || t.nodes[l.b].type == NodeType::kCpu)) {
      EXPECT_EQ(l.gen, 5);
      EXPECT_EQ(l.width, 16);
      sawUplink = true;
    }
  EXPECT_TRUE(sawUplink);
  EXPECT_EQ(t.nodes[c].numa, 1);
}

TEST(Detect, NicsAndNumaFromSysfs) {
  FakeSysfs fs;
  fs.file("devices/system/node/node0/cpulist", "0-3");
  fs.file("devices/system/node/node1/cpulist", "4-7,12");
  fs.device("pci0000:80/0000:80:01.0", "16.0 GT/s PCIe", 16, 1);
  fs.device("pci0000:80/0000:80:01.0/0000:81:00.0", "16.0 GT/s PCIe", 16, 1);
  const std::string dev = "devices/pci0000:80/0000:80:01.0/0000:81:00.0";
  fs.mkdirs(dev + "/infiniband/mlx5_0/ports/1");
  fs.file(dev + "/infiniband/mlx5_0/ports/1/state", "4: ACTIVE");
  fs.file(dev + "/infiniband/mlx5_0/ports/1/rate", "200 Gb/sec (4X HDR)");
  fs.file(dev + "/infiniband/mlx5_0/ports/1/link_layer", "InfiniBand");
  fs.link(dev + "/infiniband/mlx5_0", "class/infiniband/mlx5_0");
  fs.link(dev, dev + "/infiniband/mlx5_0/device");
  fs.mkdirs(dev + "/net/ib0");
  fs.link(dev, dev + "/net/ib0/device");
  fs.file(dev + "/net/ib0/operstate", "up");
  fs.link(dev + "/net/ib0", "class/net/ib0");
  fs.mkdirs("devices/virtual/net/lo");
  fs.link("devices/virtual/net/lo", "class/net/lo");
  fs.mkdirs("module/nvidia_peermem");
  DetectOptions o;
  o.sysfsRoot = fs.root();
  o.gpus = false;
  Topology t;
  ASSERT_EQ(detectTopology(o, &t), tuttiSuccess) << lastError();
  ASSERT_EQ(t.hosts[0].cpus.size(), 2u);
  EXPECT_EQ(t.nodes[t.hosts[0].cpus[1]].cores, 5);
  ASSERT_EQ(t.nics.size(), 1u) << topologyToJson(t);
  const TopoNode& nic = t.nodes[t.nics[0]];
  EXPECT_EQ(nic.id, "mlx5_0");
  EXPECT_DOUBLE_EQ(nic.speedGbps, 200);
  EXPECT_TRUE(nic.rdma);
  EXPECT_TRUE(nic.gdr);
  EXPECT_EQ(nic.netdev, "ib0");
  EXPECT_EQ(nic.numa, 1);
  EXPECT_EQ(nic.busId, "0000:81:00.0");
}

TEST(Detect, ThisMachineGivesAValidTopology) {
  Topology t;
  ASSERT_EQ(detectTopology(DetectOptions(), &t), tuttiSuccess) << lastError();
  EXPECT_TRUE(t.finalized());
  EXPECT_EQ(t.numHosts(), 1);
  EXPECT_GE(t.hosts[0].cpus.size(), 1u);
  Topology back;
  ASSERT_EQ(parseTopologyText(topologyToJson(t), "dump", ".", &back), tuttiSuccess)
      << lastError() << "\n"
      << topologyToJson(t);
  EXPECT_EQ(back.numGpus(), t.numGpus());
  EXPECT_EQ(back.nics.size(), t.nics.size());
  // A second call is served from the process cache.
  std::shared_ptr<const Topology> a, b;
  ASSERT_EQ(processTopology(&a), tuttiSuccess);
  ASSERT_EQ(processTopology(&b), tuttiSuccess);
  EXPECT_EQ(a.get(), b.get());
}

}  // namespace
}  // namespace tutti
